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
    let (name, code) = rt.run_oneoff(p, &run).await.unwrap();
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
