//! The runtime's verbs on the recording fake engine: observe, plan, execute, with no engine
//! and no network.

use std::sync::Arc;

use super::engine::fake::{service_labels, FakeContainer, FakeEngine};
use super::oneoff::OneOff;
use super::{progress, DownOptions, LifecycleOptions, Runtime, UpOptions};
use crate::graph::fixture;
use crate::graph::lifecycle::Action;
use crate::parse::units::Duration;
use crate::parse::{Condition, DependsOn, Project};

fn project(services: &[(&str, Option<(&str, Condition)>)]) -> Project {
    let mut p = fixture::project();
    for (name, dep) in services {
        let deps: Vec<_> = dep
            .iter()
            .map(|(d, condition)| {
                let on = DependsOn {
                    condition: *condition,
                    ..Default::default()
                };
                (*d, on)
            })
            .collect();
        p.services
            .insert(name.to_string(), fixture::service(name, &deps));
    }
    p
}

fn runtime(engine: &Arc<FakeEngine>) -> Runtime {
    engine.add_image("img", "sha256:img");
    Runtime::new(engine.clone(), progress::silent(), None)
}

fn position(calls: &[String], call: &str) -> usize {
    calls
        .iter()
        .position(|c| c == call)
        .unwrap_or_else(|| panic!("no `{call}` in {calls:#?}"))
}

#[tokio::test]
async fn up_asks_for_images_once_when_nothing_was_pulled() {
    let engine = Arc::new(FakeEngine::default());
    let rt = runtime(&engine);
    let p = Arc::new(project(&[("db", None), ("web", None)]));
    let known = rt.pull_by_policy(&p, &[]).await.unwrap();
    assert_eq!(engine.image_inspections(), 1);
    let opts = UpOptions {
        known_images: known,
        ..Default::default()
    };
    rt.up(p.clone(), &opts).await.unwrap();
    assert_eq!(
        engine.image_inspections(),
        1,
        "up asked for the images again"
    );
    assert!(engine.container("p-web-1").is_some());
    // A pull makes what was known stale: `up` then asks again.
    let mut p = (*p).clone();
    p.services.get_mut("web").unwrap().image = Some("other".into());
    let p = Arc::new(p);
    let before = engine.image_inspections();
    assert_eq!(rt.pull_by_policy(&p, &[]).await.unwrap(), None);
    assert!(engine.image_inspections() > before);
}

#[tokio::test]
async fn up_creates_in_order_and_waits_for_health() {
    let engine = Arc::new(FakeEngine::default());
    let rt = runtime(&engine);
    engine.health_on_start("p-db-1", "healthy");
    let p = Arc::new(project(&[
        ("db", None),
        ("web", Some(("db", Condition::ServiceHealthy))),
    ]));
    let plan = rt.up(p.clone(), &UpOptions::default()).await.unwrap();
    assert!(
        plan.to_string().contains("await db service_healthy"),
        "{plan}"
    );
    let calls = engine.calls();
    assert_eq!(calls[0], "create network p_default");
    assert!(position(&calls, "start p-db-1") < position(&calls, "start p-web-1"));
    assert!(position(&calls, "create container p-db-1") < position(&calls, "start p-db-1"));
    let web = engine.container("p-web-1").unwrap();
    assert_eq!(web.state, "running");
    assert_eq!(web.labels[super::labels::SERVICE], "web");

    // A second `up` changes nothing.
    let before = engine.calls().len();
    rt.up(p, &UpOptions::default()).await.unwrap();
    assert_eq!(engine.calls()[before..], [] as [String; 0]);
}

#[tokio::test]
async fn an_unhealthy_dependency_stops_its_dependents() {
    let engine = Arc::new(FakeEngine::default());
    let rt = runtime(&engine);
    engine.health_on_start("p-db-1", "unhealthy");
    let p = Arc::new(project(&[
        ("db", None),
        ("web", Some(("db", Condition::ServiceHealthy))),
    ]));
    let err = rt.up(p, &UpOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("p-db-1 is unhealthy"), "{err}");
    assert!(!engine.calls().contains(&"start p-web-1".to_string()));
}

#[tokio::test]
async fn stop_uses_each_services_own_grace_period() {
    let engine = Arc::new(FakeEngine::default());
    let rt = runtime(&engine);
    let mut p = project(&[("web", None), ("web-api", None)]);
    p.services["web"].stop_grace_period = Some(Duration(1_000_000_000));
    p.services["web-api"].stop_grace_period = Some(Duration(30_000_000_000));
    for (name, svc) in [("p-web-1", "web"), ("p-web-api-1", "web-api")] {
        engine.add_container(
            name,
            FakeContainer {
                id: name.into(),
                state: "running".into(),
                labels: service_labels("p", svc, 1),
                ..Default::default()
            },
        );
    }
    let p = Arc::new(p);
    rt.lifecycle(p.clone(), &Action::Stop, &[], &LifecycleOptions::default())
        .await
        .unwrap();
    let mut calls = engine.calls();
    calls.sort();
    assert_eq!(calls, ["stop p-web-1 t=1", "stop p-web-api-1 t=30"]);

    // `down -t 0` overrides both; removing what is already gone is fine.
    let opts = DownOptions {
        timeout: Some(0),
        ..Default::default()
    };
    rt.down(p, true, &opts).await.unwrap();
    let calls = engine.calls();
    assert!(calls.contains(&"remove container p-web-api-1".to_string()));
    assert!(engine.container("p-web-1").is_none());
}

#[tokio::test]
async fn detached_run_creates_and_starts_a_one_off_container() {
    let engine = Arc::new(FakeEngine::default());
    let rt = runtime(&engine);
    let p = Arc::new(project(&[("app", None)]));
    let mut svc = p.services["app"].clone();
    svc.command = Some(vec!["true".into()]);
    let run = OneOff {
        service: svc,
        name: Some("job".into()),
        deps: true,
        detach: true,
        ..Default::default()
    };
    let (name, code) = rt.run_oneoff(p, &run, None, || {}).await.unwrap();
    assert_eq!((name.as_str(), code), ("job", 0));
    assert_eq!(
        engine.calls(),
        [
            "create network p_default",
            "create container job",
            "start job"
        ]
    );
    let c = engine.container("job").unwrap();
    assert_eq!(c.labels[super::labels::ONEOFF], "True");
    assert_eq!(c.labels[super::labels::SLUG].len(), 64);
}

#[tokio::test]
async fn a_missing_image_is_pulled_before_create_and_wait_sees_health() {
    let engine = Arc::new(FakeEngine::default());
    let rt = Runtime::new(engine.clone(), progress::silent(), None);
    engine.health_on_start("p-db-1", "healthy");
    let p = Arc::new(project(&[("db", None)]));
    let opts = UpOptions {
        wait: true,
        wait_timeout: Some(std::time::Duration::from_secs(5)),
        ..Default::default()
    };
    let plan = rt.up(p, &opts).await.unwrap();
    assert!(
        plan.to_string().contains("#1 pull image img (missing)"),
        "{plan}"
    );
    let calls = engine.calls();
    assert!(position(&calls, "pull img:latest") < position(&calls, "create container p-db-1"));
}

/// A reporter that keeps `resource  text` lines.
fn recording() -> (progress::Reporter, Arc<std::sync::Mutex<Vec<String>>>) {
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = lines.clone();
    let report: progress::Reporter = Arc::new(move |e: progress::Event| {
        if let Ok(mut l) = keep.lock() {
            l.push(format!("{}  {}", e.resource, e.text));
        }
    });
    (report, lines)
}

#[tokio::test]
async fn a_second_up_says_running_for_each_container_it_keeps() {
    let engine = Arc::new(FakeEngine::default());
    let rt = runtime(&engine);
    let p = Arc::new(project(&[("db", None), ("web", None)]));
    rt.up(p.clone(), &UpOptions::default()).await.unwrap();
    let before = engine.calls().len();
    let (report, lines) = recording();
    let rt = Runtime::new(engine.clone(), report, None);
    rt.up(p, &UpOptions::default()).await.unwrap();
    assert_eq!(engine.calls()[before..], [] as [String; 0]);
    let mut lines = lines.lock().unwrap().clone();
    lines.sort();
    assert_eq!(
        lines,
        ["Container p-db-1  Running", "Container p-web-1  Running"]
    );
}

#[tokio::test]
async fn down_leaves_a_network_still_in_use_with_a_warning() {
    let engine = Arc::new(FakeEngine::default());
    let rt = runtime(&engine);
    let p = Arc::new(project(&[("web", None)]));
    rt.up(p.clone(), &UpOptions::default()).await.unwrap();
    engine.hold_network("p_default");
    let (report, lines) = recording();
    let rt = Runtime::new(engine.clone(), report, None);
    rt.down(p, true, &DownOptions::default()).await.unwrap();
    let lines = lines.lock().unwrap().clone();
    assert!(
        lines.contains(&"Network p_default  Resource is still in use".to_string()),
        "{lines:#?}"
    );
    assert!(engine.container("p-web-1").is_none());
}

#[tokio::test]
async fn an_unhealthy_dependency_fails_up_with_the_references_words() {
    let engine = Arc::new(FakeEngine::default());
    let (report, lines) = recording();
    engine.add_image("img", "sha256:img");
    let rt = Runtime::new(engine.clone(), report, None);
    engine.health_on_start("p-db-1", "unhealthy");
    let p = Arc::new(project(&[
        ("db", None),
        ("web", Some(("db", Condition::ServiceHealthy))),
    ]));
    let err = rt.up(p, &UpOptions::default()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "dependency failed to start: container p-db-1 is unhealthy"
    );
    let lines = lines.lock().unwrap().clone();
    assert!(
        lines.contains(&"Container p-db-1  Error".to_string()),
        "{lines:#?}"
    );
}

/// `web` waits on `db` healthy; `db`'s healthcheck runs `true` and the engine says `db_health`
/// once `db` starts.
fn early_probe_project() -> Project {
    let mut p = project(&[
        ("db", None),
        ("web", Some(("db", Condition::ServiceHealthy))),
    ]);
    if let Some(db) = p.services.get_mut("db") {
        db.healthcheck = Some(crate::parse::Healthcheck {
            test: vec!["CMD".into(), "true".into()],
            ..Default::default()
        });
    }
    p
}

fn early_probe(on: bool) -> UpOptions {
    let mut opts = UpOptions::default();
    opts.plan.early_probe = on;
    opts
}

#[tokio::test]
async fn an_early_probe_releases_a_dependent_before_the_engine_decides() {
    let engine = Arc::new(FakeEngine::default());
    let rt = runtime(&engine);
    engine.health_on_start("p-db-1", "starting");
    let p = Arc::new(early_probe_project());
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        rt.up(p, &early_probe(true)),
    )
    .await
    .expect("released by the probe")
    .unwrap();
    let calls = engine.calls();
    assert!(position(&calls, "exec p-db-1 true") < position(&calls, "start p-web-1"));
}

#[tokio::test]
async fn without_early_probes_a_dependent_waits_for_the_engine() {
    let engine = Arc::new(FakeEngine::default());
    let rt = runtime(&engine);
    engine.health_on_start("p-db-1", "starting");
    let p = Arc::new(early_probe_project());
    let opts = early_probe(false);
    let up = rt.up(p, &opts);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(500), up)
            .await
            .is_err(),
        "the engine never said healthy"
    );
    let calls = engine.calls();
    assert!(!calls.iter().any(|c| c.starts_with("exec ")), "{calls:#?}");
    assert!(!calls.contains(&"start p-web-1".to_string()), "{calls:#?}");
}

#[tokio::test]
async fn a_failing_early_probe_never_releases_nor_fails_a_dependent() {
    let engine = Arc::new(FakeEngine::default());
    let rt = runtime(&engine);
    engine.health_on_start("p-db-1", "starting");
    engine.exec_exits(1);
    let p = Arc::new(early_probe_project());
    let opts = early_probe(true);
    let up = rt.up(p, &opts);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(800), up)
            .await
            .is_err(),
        "a failed probe decides nothing"
    );
    let calls = engine.calls();
    let probes = calls.iter().filter(|c| *c == "exec p-db-1 true").count();
    assert!(probes >= 3, "probed again and again: {calls:#?}");
    assert!(!calls.contains(&"start p-web-1".to_string()), "{calls:#?}");
}

#[tokio::test]
async fn an_engine_reported_unhealthy_wins_over_a_passing_early_probe() {
    let engine = Arc::new(FakeEngine::default());
    let rt = runtime(&engine);
    engine.health_on_start("p-db-1", "unhealthy");
    let p = Arc::new(early_probe_project());
    let err = rt.up(p, &early_probe(true)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "dependency failed to start: container p-db-1 is unhealthy"
    );
    assert!(engine
        .container("p-web-1")
        .is_none_or(|c| c.state != "running"));
}
