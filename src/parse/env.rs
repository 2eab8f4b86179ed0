//! The environment for interpolation: env files (`.env`, `--env-file`, `COMPOSE_ENV_FILES`) with
//! the OS environment over them.

use indexmap::IndexMap;
use std::path::{Path, PathBuf};

use super::dotenv;
use super::error::LoadError;
use super::interpolate::{self, Lookup};

/// Variables, in the order they were defined.
pub type Vars = IndexMap<String, String>;

/// Reads one env file (dotenv syntax, or `raw`), interpolating against `lookup`. Missing files
/// are an error.
pub fn read_file(path: &Path, raw: bool, lookup: &dyn Lookup) -> Result<Vars, LoadError> {
    read_file_noting(path, raw, lookup, &mut Vec::new())
}

/// [`read_file`], with a warning in `warnings` for each use of a variable that is not set (as the
/// reference gives it).
pub fn read_file_noting(
    path: &Path,
    raw: bool,
    lookup: &dyn Lookup,
    warnings: &mut Vec<String>,
) -> Result<Vars, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        LoadError::new(format!("cannot read env file `{}`: {e}", path.display()))
            .hint("check the path given with --env-file or env_file")
    })?;
    let mut unset = Vec::new();
    let vars = dotenv::parse_noting(&text, raw, lookup, &mut unset).map_err(|e| {
        let mut err = LoadError::new(format!("invalid env file: {}", e.message)).in_file(path);
        err.set_position(&text, e.line, 1);
        err
    })?;
    warnings.extend(unset.iter().map(|name| interpolate::unset_warning(name)));
    Ok(vars)
}

/// The env files to read: those given, else `COMPOSE_ENV_FILES`, else `<dir>/.env` if present.
pub fn files(given: &[PathBuf], os: &Vars, cwd: &Path, dir: &Path) -> Vec<(PathBuf, bool)> {
    if !given.is_empty() {
        return given.iter().map(|p| (cwd.join(p), true)).collect();
    }
    if let Some(list) = os.get("COMPOSE_ENV_FILES").filter(|s| !s.is_empty()) {
        return list
            .split(',')
            .map(|p| (cwd.join(p.trim()), true))
            .collect();
    }
    if os
        .get("COMPOSE_DISABLE_ENV_FILE")
        .is_some_and(|v| v == "1" || v == "true")
    {
        return vec![];
    }
    vec![(dir.join(".env"), false)]
}

/// Reads the env files (required ones must exist) into one set of variables.
pub fn read_all(files: &[(PathBuf, bool)], os: &Vars) -> Result<Vars, LoadError> {
    read_all_noting(files, os, &mut Vec::new())
}

/// [`read_all`], with the warnings of [`read_file_noting`].
pub fn read_all_noting(
    files: &[(PathBuf, bool)],
    os: &Vars,
    warnings: &mut Vec<String>,
) -> Result<Vars, LoadError> {
    let mut out = Vars::new();
    for (path, required) in files {
        if !path.is_file() {
            if *required {
                return Err(
                    LoadError::new(format!("env file `{}` not found", path.display()))
                        .hint("check the path given with --env-file or COMPOSE_ENV_FILES"),
                );
            }
            continue;
        }
        let seen = out.clone();
        let lookup = |k: &str| os.get(k).or_else(|| seen.get(k)).cloned();
        out.extend(read_file_noting(path, false, &lookup, warnings)?);
    }
    Ok(out)
}

/// Env-file variables with the OS environment over them.
pub fn overlay(files: &Vars, os: &Vars) -> Vars {
    let mut out = files.clone();
    for (k, v) in os {
        out.insert(k.clone(), v.clone());
    }
    out
}
