//! What a public id may be. Ids become storage lookups and URL paths, so anything that could
//! climb out of a folder or confuse a path (`..`, a leading `/`, control characters) is refused.

/// Why a public id is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicIdError {
    #[error("public id must not be empty")]
    Empty,
    #[error("public id {0:?} is longer than 255 characters")]
    TooLong(String),
    #[error("public id {0:?} must not start or end with '/'")]
    EdgeSlash(String),
    #[error("public id {0:?} must not contain empty, '.' or '..' path segments")]
    BadSegment(String),
    #[error("public id {0:?} must not contain control characters or '\\'")]
    BadCharacter(String),
}

/// Checks one public id (already percent-decoded).
pub fn validate_public_id(id: &str) -> Result<(), PublicIdError> {
    if id.is_empty() {
        return Err(PublicIdError::Empty);
    }
    if id.chars().count() > 255 {
        return Err(PublicIdError::TooLong(id.chars().take(40).collect()));
    }
    if id.starts_with('/') || id.ends_with('/') {
        return Err(PublicIdError::EdgeSlash(id.into()));
    }
    if id.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(PublicIdError::BadSegment(id.into()));
    }
    if id.chars().any(|c| c.is_control() || c == '\\') {
        return Err(PublicIdError::BadCharacter(id.escape_debug().to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_ids() {
        for ok in [
            "dog",
            "a/b/c",
            "my file(1)",
            "v12/folder/dog",
            "ünï.cödé",
            "x.tar.gz",
        ] {
            assert_eq!(validate_public_id(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_path_tricks() {
        let cases = [
            ("", PublicIdError::Empty),
            (
                "/etc/passwd",
                PublicIdError::EdgeSlash("/etc/passwd".into()),
            ),
            ("a/", PublicIdError::EdgeSlash("a/".into())),
            ("a/../b", PublicIdError::BadSegment("a/../b".into())),
            ("..", PublicIdError::BadSegment("..".into())),
            ("a//b", PublicIdError::BadSegment("a//b".into())),
            ("./a", PublicIdError::BadSegment("./a".into())),
        ];
        for (id, expected) in cases {
            assert_eq!(validate_public_id(id), Err(expected), "{id:?}");
        }
        assert!(matches!(
            validate_public_id("a\\b"),
            Err(PublicIdError::BadCharacter(_))
        ));
        assert!(matches!(
            validate_public_id("a\nb"),
            Err(PublicIdError::BadCharacter(_))
        ));
        assert!(matches!(
            validate_public_id(&"x".repeat(256)),
            Err(PublicIdError::TooLong(_))
        ));
    }
}
