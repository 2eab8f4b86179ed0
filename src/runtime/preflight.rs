//! Checks that run before `up` creates anything: options this engine cannot honour fail with
//! what to do, and swarm-only keys are reported once as ignored.

use std::path::Path;

use super::engine::{Engine, EngineError, ErrorKind};
use crate::graph::observed::Observed;
use crate::parse::Project;

/// The `deploy` keys that only swarm mode honours, by service, as one warning (`None` if none).
pub fn swarm_only_warning(project: &Project) -> Option<String> {
    let mut found = Vec::new();
    for svc in project.services.values() {
        let Some(d) = &svc.deploy else { continue };
        let mut keys: Vec<String> = d
            .other
            .iter()
            .filter(|(k, v)| {
                // `mode: replicated` is what every engine does anyway.
                !(k.as_str() == "mode" && v.as_str() == Some("replicated"))
            })
            .map(|(k, v)| match (k.as_str(), v.as_str()) {
                ("mode", Some(m)) => format!("deploy.mode: {m}"),
                _ => format!("deploy.{k}"),
            })
            .collect();
        keys.sort();
        if !keys.is_empty() {
            found.push(format!("{} ({})", svc.name, keys.join(", ")));
        }
    }
    (!found.is_empty()).then(|| {
        format!(
            "swarm-only keys are ignored outside swarm mode: {}",
            found.join("; ")
        )
    })
}

/// Whether the engine is on this machine (its host's interfaces are ours to check).
fn engine_is_local() -> bool {
    super::endpoint::current_is_local()
}

/// Fails, before anything is created, on networks the engine cannot create: overlay without
/// swarm mode, macvlan/ipvlan whose `parent` interface does not exist.
pub(super) async fn check(
    engine: &dyn Engine,
    project: &Project,
    observed: &Observed,
) -> Result<(), EngineError> {
    let wanted: Vec<(&String, &crate::parse::Network)> = project
        .networks
        .iter()
        .filter(|(key, n)| {
            !n.external
                && observed.network(&n.name).is_none()
                && project
                    .services
                    .values()
                    .any(|s| s.networks.contains_key(key.as_str()))
        })
        .collect();
    let mut swarm_active: Option<bool> = None;
    for (key, net) in wanted {
        let driver = net.driver.as_deref().unwrap_or("bridge");
        match driver {
            "overlay" => {
                let active = match swarm_active {
                    Some(a) => a,
                    None => {
                        let state = engine.swarm_state().await?;
                        let a = state == "active";
                        swarm_active = Some(a);
                        a
                    }
                };
                if !active {
                    return Err(EngineError::new(
                        ErrorKind::Api,
                        format!(
                            "network `{key}` uses the overlay driver, which needs swarm mode, and \
                             this engine is not part of a swarm: run `docker swarm init` first, \
                             or use `driver: bridge` for a single engine (nothing was created)"
                        ),
                    ));
                }
            }
            "macvlan" | "ipvlan" if engine_is_local() => {
                let Some(parent) = net.driver_opts.get("parent") else {
                    continue;
                };
                // `eth0.10` is a VLAN sub-interface the driver creates on `eth0`.
                let base = parent.split('.').next().unwrap_or(parent);
                let sys = Path::new("/sys/class/net");
                if sys.is_dir() && !sys.join(base).exists() {
                    let mut names: Vec<String> = std::fs::read_dir(sys)
                        .map(|d| {
                            d.filter_map(|e| e.ok())
                                .map(|e| e.file_name().to_string_lossy().into_owned())
                                .filter(|n| {
                                    n != "lo" && !n.starts_with("veth") && !n.starts_with("br-")
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    names.sort();
                    return Err(EngineError::new(
                        ErrorKind::NotFound,
                        format!(
                            "network `{key}` ({driver}) needs the parent interface `{base}`, \
                             which does not exist on the engine's host: set \
                             `driver_opts.parent` to one of {} (nothing was created)",
                            names.join(", ")
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}
