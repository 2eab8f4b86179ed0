//! Names: the project name's rules (precedence, normalisation, validation), and every engine
//! name derived from it, as the reference makes them (containers, one-off containers, the
//! container set aside while recreating, default network and volume names, built images).

use super::error::LoadError;
use super::model::Service;

/// The container of replica `number` of a service: `container_name`, else
/// `<project>-<service>-<number>`.
pub fn container(project: &str, svc: &Service, number: u64) -> String {
    match &svc.container_name {
        Some(n) => n.clone(),
        None => format!("{project}-{}-{number}", svc.name),
    }
}

/// The first container of a service the project does not have (a `service:` namespace whose
/// service is disabled): `<project>-<service>-1`.
pub fn first_container(project: &str, service: &str) -> String {
    format!("{project}-{service}-1")
}

/// A one-off container of `run` without `--name`: `<project>-<service>-run-<12 hex digits>`.
pub fn oneoff_container(project: &str, service: &str, slug: &str) -> String {
    format!("{project}-{service}-run-{}", &slug[..slug.len().min(12)])
}

/// The name a container is renamed to while its replacement is created:
/// `<first 12 characters of its id>_<name>`.
pub fn set_aside(id: &str, name: &str) -> String {
    format!("{}_{name}", &id[..id.len().min(12)])
}

/// The engine name of a network or volume without `name:`: `<project>_<key>`.
pub fn resource(project: &str, key: &str) -> String {
    format!("{project}_{key}")
}

/// The image of a service without `image:` (built): `<project>-<service>`.
pub fn built_image(project: &str, service: &str) -> String {
    format!("{project}-{service}")
}

/// Lower-cases and drops every character outside `[a-z0-9_-]`, then leading `_` and `-`.
pub fn normalize(s: &str) -> String {
    let lowered: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lowered.trim_start_matches(['_', '-']).to_string()
}

/// Checks a name given with `-p` or `COMPOSE_PROJECT_NAME`, which is not normalised.
pub fn validate(s: &str, origin: &str) -> Result<String, LoadError> {
    if s.is_empty() {
        return Err(LoadError::new("project name must not be empty"));
    }
    if normalize(s) != s {
        return Err(LoadError::new(format!(
            "invalid project name \"{s}\" (from {origin}): must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
        ))
        .hint(format!("try `{}`", normalize(s))));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_names() {
        let mut web = Service {
            name: "web".into(),
            ..Default::default()
        };
        assert_eq!(container("p", &web, 2), "p-web-2");
        web.container_name = Some("front".into());
        assert_eq!(container("p", &web, 1), "front");
        assert_eq!(first_container("p", "db"), "p-db-1");
        let slug = "0123456789abcdef0123";
        assert_eq!(oneoff_container("p", "web", slug), "p-web-run-0123456789ab");
        assert_eq!(
            set_aside("abcdef0123456789", "p-web-1"),
            "abcdef012345_p-web-1"
        );
        assert_eq!(resource("p", "default"), "p_default");
        assert_eq!(built_image("p", "web"), "p-web");
    }

    #[test]
    fn normalises() {
        assert_eq!(normalize("My.App"), "myapp");
        assert_eq!(normalize("_-x_y-1"), "x_y-1");
        assert_eq!(normalize("Ünï"), "n");
    }

    #[test]
    fn validates() {
        assert!(validate("ok-name_1", "-p").is_ok());
        assert!(validate("Bad", "-p").is_err());
        assert!(validate("", "-p").is_err());
        assert!(validate("-x", "-p").is_err());
    }
}
