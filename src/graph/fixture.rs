//! Test fixtures: the smallest projects the planner and the runtime's unit tests start from.

use crate::parse::{DependsOn, Network, Project, Service};

/// Project `p` with its `default` network and no service.
pub(crate) fn project() -> Project {
    let mut p = Project {
        name: "p".into(),
        ..Default::default()
    };
    p.networks.insert(
        "default".into(),
        Network {
            name: "p_default".into(),
            ..Default::default()
        },
    );
    p
}

/// Service `name` on image `img`, on the default network, depending on `deps` as given.
pub(crate) fn service(name: &str, deps: &[(&str, DependsOn)]) -> Service {
    let mut s = Service {
        name: name.to_string(),
        image: Some("img".into()),
        ..Default::default()
    };
    s.networks.insert("default".into(), None);
    for (d, on) in deps {
        s.depends_on.insert(d.to_string(), on.clone());
    }
    s
}
