//! How long a container gets to stop: `-t` when given, else its service's `stop_grace_period`.
//! Found by the service a container belongs to (its label), never by its name.

use std::collections::HashMap;

use crate::parse::Project;

/// Stop timeouts in seconds, by service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StopTimeouts {
    /// `-t, --timeout`: every container, whatever its service says.
    pub forced: Option<i64>,
    /// `stop_grace_period` of the services that set one.
    pub by_service: HashMap<String, i64>,
}

impl StopTimeouts {
    /// The timeouts of a project's services (enabled or not), under `forced`.
    pub fn of(project: &Project, forced: Option<i64>) -> Self {
        let by_service = project
            .services
            .iter()
            .chain(project.disabled_services.iter())
            .filter_map(|(name, s)| {
                let d = s.stop_grace_period?;
                Some((name.clone(), (d.0 / 1_000_000_000).max(0)))
            })
            .collect();
        StopTimeouts { forced, by_service }
    }

    /// The timeout of a container of `service` (`None`: the container's own).
    pub fn get(&self, service: &str) -> Option<i64> {
        self.forced
            .or_else(|| self.by_service.get(service).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{units::Duration, Service};

    fn project() -> Project {
        let mut p = Project {
            name: "p".into(),
            ..Default::default()
        };
        for (name, secs) in [("web", Some(1)), ("web-api", Some(30)), ("db", None)] {
            p.services.insert(
                name.into(),
                Service {
                    name: name.into(),
                    stop_grace_period: secs.map(|s: i64| Duration(s * 1_000_000_000)),
                    ..Default::default()
                },
            );
        }
        p
    }

    #[test]
    fn by_service_name_not_by_container_prefix() {
        let t = StopTimeouts::of(&project(), None);
        assert_eq!(t.get("web"), Some(1));
        assert_eq!(t.get("web-api"), Some(30));
        assert_eq!(t.get("db"), None);
        assert_eq!(t.get("orphan"), None);
        let forced = StopTimeouts::of(&project(), Some(0));
        assert_eq!(forced.get("web-api"), Some(0));
        assert_eq!(forced.get("orphan"), Some(0));
    }
}
