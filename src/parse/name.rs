//! Project name rules: precedence, normalisation, validation.

use super::error::LoadError;

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
