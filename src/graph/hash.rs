//! The config hash stored in `com.docker.compose.config-hash`: SHA-256 of the service's canonical
//! JSON, without the keys that do not change the container (build, scale, depends_on, profiles,
//! pull_policy). `x-` keys never reach the model, and env files are already merged in.

use sha2::{Digest, Sha256};

use crate::parse::Service;

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
    let json = serde_json::to_vec(&s).unwrap_or_default();
    hex::encode(Sha256::digest(&json))
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
}
