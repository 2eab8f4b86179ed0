//! Man pages generated from the clap definitions: `rcompose.1` and one `rcompose-CMD.1` per command.
//! The committed pages under `man/` are kept in sync by a test (`RCOMPOSE_REGEN_MAN=1` rewrites them).

use clap::CommandFactory;

use super::Cli;

/// Every page as (file name, roff text).
pub fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut root = Cli::command();
    root.build();
    let mut out = Vec::new();
    out.push(("rcompose.1".to_string(), render(root.clone())?));
    for sub in root.get_subcommands() {
        if sub.get_name() == "help" || sub.is_hide_set() {
            continue;
        }
        let name = format!("rcompose-{}", sub.get_name());
        let page = sub.clone().name(name.clone()).display_name(name.clone());
        out.push((format!("{name}.1"), render(page)?));
    }
    Ok(out)
}

fn render(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .date("")
        .source(format!("rcompose {}", env!("CARGO_PKG_VERSION")))
        .manual("rcompose manual")
        .render(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn man_pages_match_the_cli() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man");
        let regen = std::env::var("RCOMPOSE_REGEN_MAN").is_ok_and(|v| v == "1");
        let pages = pages().unwrap();
        let mut stale = Vec::new();
        for (name, text) in &pages {
            let path = dir.join(name);
            if regen {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, text).unwrap();
            } else if std::fs::read(&path).ok().as_deref() != Some(text.as_slice()) {
                stale.push(name.clone());
            }
        }
        let expected: Vec<_> = pages.iter().map(|(n, _)| n.clone()).collect();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".1") && !expected.contains(&name) {
                if regen {
                    std::fs::remove_file(dir.join(&name)).unwrap();
                } else {
                    stale.push(format!("{name} (no such command)"));
                }
            }
        }
        assert!(
            stale.is_empty(),
            "man pages out of date: {stale:?}; run `RCOMPOSE_REGEN_MAN=1 cargo test man_pages`"
        );
    }
}
