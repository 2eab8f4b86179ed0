//! Inputs the fuzzer (`fuzz/`) once crashed the loader with, kept in `fuzz/regressions`: each
//! must now load or fail with an error.

use super::{load, LoadOptions};

#[test]
fn fuzz_regressions_load_without_panicking() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let work = tempfile::tempdir().expect("tempdir");
    let file = work.path().join("compose.yaml");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions") {
        let data = std::fs::read(entry.expect("entry").path()).expect("read");
        std::fs::write(&file, data).expect("write");
        let opts = LoadOptions {
            files: vec![file.display().to_string()],
            project_name: Some("fuzz".into()),
            cwd: work.path().to_path_buf(),
            ..Default::default()
        };
        let _ = load(&opts);
        seen += 1;
    }
    assert!(seen > 0, "no regression inputs in {}", dir.display());
}
