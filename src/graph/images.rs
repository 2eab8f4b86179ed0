//! Which images to pull and which to build before `up`, `create` and `run`: decided here from
//! the project and the images the engine has (service -> image id); the runtime only performs.

use std::collections::HashMap;

use crate::parse::{Project, PullPolicy, Service};

/// An image `pull_policy: never` forbids pulling, and the engine does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service \"{service}\": image `{image}` is not on this engine and pull_policy is never")]
pub struct NeverPulled {
    pub service: String,
    pub image: String,
}

fn selected<'a>(project: &'a Project, services: &'a [String]) -> impl Iterator<Item = &'a Service> {
    // A set: `services` is every service of a large project when none is named.
    let wanted: std::collections::HashSet<&str> = services.iter().map(String::as_str).collect();
    project
        .services
        .values()
        .filter(move |s| wanted.is_empty() || wanted.contains(s.name.as_str()))
}

/// The services of `services` (all when empty) whose image `pull_policy` asks to pull before
/// anything is created: `always`, and (`missing`, `daily`, `weekly`, `refresh`, none) an image
/// the engine does not have and that is not built; never `never` or `build`.
pub fn pulls(
    project: &Project,
    services: &[String],
    have: &HashMap<String, String>,
) -> Vec<String> {
    selected(project, services)
        .filter(|s| match s.pull_policy {
            Some(PullPolicy::Always) => true,
            Some(PullPolicy::Never | PullPolicy::Build) => false,
            _ => s.build.is_none() && !have.contains_key(&s.name),
        })
        .map(|s| s.name.clone())
        .collect()
}

/// The first service of `services` whose policy is `never` and whose image is missing.
pub fn never_pulled(
    project: &Project,
    services: &[String],
    have: &HashMap<String, String>,
) -> Result<(), NeverPulled> {
    match selected(project, services)
        .find(|s| s.pull_policy == Some(PullPolicy::Never) && !have.contains_key(&s.name))
    {
        Some(s) => Err(NeverPulled {
            service: s.name.clone(),
            image: s.image_name(&project.name),
        }),
        None => Ok(()),
    }
}

/// The images `pull` fetches for `services` (all when empty): each image once, sorted; not
/// those of services with a `build` section when `ignore_buildable`, nor those whose policy
/// is `never` or `build`.
pub fn pull_images(project: &Project, services: &[String], ignore_buildable: bool) -> Vec<String> {
    let mut images: Vec<String> = selected(project, services)
        .filter(|s| !(ignore_buildable && s.build.is_some()))
        .filter(|s| s.image.is_some())
        .filter(|s| !matches!(s.pull_policy, Some(PullPolicy::Never | PullPolicy::Build)))
        .map(|s| s.image_name(&project.name))
        .collect();
    images.sort();
    images.dedup();
    images
}

/// The services of `services` (all when empty) to build: those with a `build` section; with
/// `have` (only missing ones), those whose image the engine lacks or whose policy is `build`.
pub fn builds<'a>(
    project: &'a Project,
    services: &'a [String],
    have: Option<&HashMap<String, String>>,
) -> Vec<&'a Service> {
    selected(project, services)
        .filter(|s| s.build.is_some())
        .filter(|s| match have {
            Some(have) => !have.contains_key(&s.name) || s.pull_policy == Some(PullPolicy::Build),
            None => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Build;

    fn project() -> Project {
        let mut p = Project {
            name: "p".into(),
            ..Default::default()
        };
        let svc = |name: &str, image: Option<&str>, build: bool, policy: Option<&str>| Service {
            name: name.into(),
            image: image.map(str::to_string),
            build: build.then(Build::default),
            pull_policy: policy.map(|p| p.parse().expect("policy")),
            ..Default::default()
        };
        for s in [
            svc("always", Some("a"), false, Some("always")),
            svc("never", Some("n"), false, Some("never")),
            svc("missing", Some("m"), false, None),
            svc("built", None, true, None),
            svc("rebuilt", Some("r"), true, Some("build")),
        ] {
            p.services.insert(s.name.clone(), s);
        }
        p
    }

    #[test]
    fn pulls_follow_each_policy() {
        let p = project();
        let none = HashMap::new();
        assert_eq!(pulls(&p, &[], &none), ["always", "missing"]);
        let all: HashMap<String, String> = p
            .services
            .keys()
            .map(|k| (k.clone(), format!("sha256:{k}")))
            .collect();
        assert_eq!(pulls(&p, &[], &all), ["always"]);
        assert_eq!(pulls(&p, &["missing".into()], &none), ["missing"]);
        assert_eq!(pull_images(&p, &[], false), ["a", "m"]);
        assert_eq!(
            pull_images(&p, &["rebuilt".into()], false),
            Vec::<String>::new()
        );
    }

    #[test]
    fn never_is_an_error_only_when_missing() {
        let p = project();
        let e = never_pulled(&p, &[], &HashMap::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "service \"never\": image `n` is not on this engine and pull_policy is never"
        );
        let have = HashMap::from([("never".to_string(), "sha256:n".to_string())]);
        assert_eq!(never_pulled(&p, &[], &have), Ok(()));
        assert_eq!(
            never_pulled(&p, &["always".into()], &HashMap::new()),
            Ok(())
        );
    }

    #[test]
    fn builds_missing_images_and_the_build_policy() {
        let p = project();
        let names = |v: Vec<&Service>| v.into_iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(builds(&p, &[], None)), ["built", "rebuilt"]);
        let have: HashMap<String, String> = p
            .services
            .keys()
            .map(|k| (k.clone(), format!("sha256:{k}")))
            .collect();
        assert_eq!(names(builds(&p, &[], Some(&have))), ["rebuilt"]);
        assert_eq!(
            names(builds(&p, &[], Some(&HashMap::new()))),
            ["built", "rebuilt"]
        );
    }
}
