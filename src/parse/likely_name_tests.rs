//! [`super::likely_name`]: the guess agrees with what [`super::load`] decides, or abstains.

use super::{likely_name, load, read, LoadOptions};

/// The guess and the loaded name for a compose file's text in folder `My App`.
fn both(
    text: &str,
    env: &[(&str, &str)],
    dotenv: &str,
    p: Option<&str>,
) -> (Option<String>, String) {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join("My App");
    std::fs::create_dir(&dir).expect("dir");
    std::fs::write(dir.join("compose.yaml"), text).expect("write");
    if !dotenv.is_empty() {
        std::fs::write(dir.join(".env"), dotenv).expect("write .env");
    }
    let opts = LoadOptions {
        project_name: p.map(str::to_string),
        os_env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        cwd: dir,
        ..Default::default()
    };
    let loaded = load(&opts).expect("loads").project.name;
    (likely_name(&opts, read(&opts).ok().as_ref()), loaded)
}

/// A file's text, the OS environment, the `.env` file and `-p`.
type Case = (
    String,
    Vec<(&'static str, &'static str)>,
    &'static str,
    Option<&'static str>,
);

const SVC: &str = "services:\n  web:\n    image: nginx\n";

#[test]
fn the_guess_is_the_loaded_name() {
    let cases: Vec<Case> = vec![
        (SVC.into(), vec![], "", None),
        (format!("name: shop\n{SVC}"), vec![], "", None),
        (
            format!("name: \"Shop_2\"  # quoted\n{SVC}"),
            vec![],
            "",
            None,
        ),
        (format!("name: 'shop'\n{SVC}"), vec![], "", None),
        (
            format!("name: shop\n{SVC}"),
            vec![("COMPOSE_PROJECT_NAME", "fromenv")],
            "",
            None,
        ),
        (
            format!("name: shop\n{SVC}"),
            vec![],
            "COMPOSE_PROJECT_NAME=dotenv\n",
            None,
        ),
        (format!("name: shop\n{SVC}"), vec![], "", Some("flag")),
        (format!("name: ${{N:-x}}\n{SVC}"), vec![], "", Some("flag")),
        (
            format!("name: ${{N:-x}}\n{SVC}"),
            vec![],
            "COMPOSE_PROJECT_NAME=dotenv\n",
            None,
        ),
        // A `name:` inside a service is not the project's.
        (
            format!("{SVC}    labels:\n      name: other\n"),
            vec![],
            "",
            None,
        ),
    ];
    for (text, env, dotenv, p) in cases {
        let (guess, loaded) = both(&text, &env, dotenv, p);
        assert_eq!(
            guess.as_deref(),
            Some(loaded.as_str()),
            "{text:?} {env:?} {dotenv:?} {p:?}"
        );
    }
}

#[test]
fn an_interpolated_name_is_not_guessed() {
    let (guess, loaded) = both(&format!("name: ${{N:-shop}}\n{SVC}"), &[], "", None);
    assert_eq!((guess, loaded.as_str()), (None, "shop"));
}

#[test]
fn without_files_the_flag_or_the_environment_is_the_guess() {
    let work = tempfile::tempdir().expect("tempdir");
    let mut opts = LoadOptions {
        cwd: work.path().to_path_buf(),
        ..Default::default()
    };
    assert_eq!(likely_name(&opts, read(&opts).ok().as_ref()), None);
    opts.os_env
        .insert("COMPOSE_PROJECT_NAME".into(), "env".into());
    assert_eq!(
        likely_name(&opts, read(&opts).ok().as_ref()).as_deref(),
        Some("env")
    );
    opts.project_name = Some("flag".into());
    assert_eq!(
        likely_name(&opts, read(&opts).ok().as_ref()).as_deref(),
        Some("flag")
    );
}
