//! The config hash stored in `com.docker.compose.config-hash` and printed by `config --hash`:
//! as docker compose computes it, the SHA-256 (hex) of the service's compact Go JSON (the tree
//! `config --format json` prints, through the same renderer), without the keys that do not
//! change the container: `build`, `pull_policy`, `scale`, `depends_on`, `profiles` and
//! `deploy.replicas`.

use sha2::{Digest, Sha256};

use std::collections::HashMap;

use crate::parse::{emit, render, Project, Service};

/// Every service's config hash: computed while the engine answers a large project's lists.
pub fn services(project: &Project) -> HashMap<String, String> {
    project
        .services
        .iter()
        .map(|(name, svc)| (name.clone(), service(svc)))
        .collect()
}

/// The config hash of one service.
pub fn service(svc: &Service) -> String {
    let mut s = svc.clone();
    s.build = None;
    s.scale = None;
    s.pull_policy = None;
    s.depends_on.clear();
    s.profiles.clear();
    if let Some(d) = s.deploy.as_mut() {
        d.replicas = None;
    }
    let tree = render::service(&s, render::Flavour::Json);
    hex::encode(Sha256::digest(emit::json_compact(&tree).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_scale_and_deps_but_not_env() {
        let mut a = Service {
            image: Some("x".into()),
            ..Default::default()
        };
        let h = service(&a);
        a.scale = Some(3);
        a.depends_on.insert("db".into(), Default::default());
        assert_eq!(service(&a), h);
        a.environment.insert("A".into(), Some("1".into()));
        assert_ne!(service(&a), h);
        assert_eq!(h.len(), 64);
    }

    #[test]
    fn hashes_the_go_json_of_the_service() {
        let a = Service {
            image: Some("x".into()),
            ..Default::default()
        };
        let json = r#"{"command":null,"entrypoint":null,"image":"x"}"#;
        assert_eq!(service(&a), hex::encode(Sha256::digest(json.as_bytes())));
    }
}
