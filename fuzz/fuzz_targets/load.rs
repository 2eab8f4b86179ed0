//! Any bytes as a compose file: the loader, the `config` rendering and the dependency graph
//! must answer with a model or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rcompose::parse::{self, render, LoadOptions};
use std::path::PathBuf;
use std::sync::OnceLock;

/// One folder per fuzzing process, holding the file under test.
fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("rcompose-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("fuzz folder");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = folder();
    let file = dir.join("compose.yaml");
    std::fs::write(&file, data).expect("write the input");
    let opts = LoadOptions {
        files: vec![file.display().to_string()],
        project_name: Some("fuzz".into()),
        cwd: dir.clone(),
        os_env: [("SET".to_string(), "value".to_string())].into_iter().collect(),
        ..Default::default()
    };
    if let Ok(loaded) = parse::load(&opts) {
        let _ = render::project(&loaded.project, render::Flavour::Json);
        let _ = render::project(&loaded.project, render::Flavour::Yaml);
        let _ = rcompose::graph::ServiceGraph::of(&loaded.project);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let mut unset = Vec::new();
        let _ = parse::interpolate::expand(text, &|_: &str| Some("x".to_string()), &mut unset);
    }
});
