//! Eager syntax: transformations as the Upload and Admin APIs take them in a parameter, not a
//! URL — several separated by `|`, each optionally ending in `/{format}` (`c_fill,w_100/jpg`).

use super::{Transformation, TransformationError};

/// One transformation of an eager list and the format it is wanted in.
#[derive(Debug, Clone, PartialEq)]
pub struct Eager {
    pub transformation: Transformation,
    pub format: Option<String>,
}

/// Splits a trailing `/{format}` off one eager transformation (`w_100/jpg` → `w_100`, `jpg`).
/// A last segment is a format when it is a bare extension: letters and digits only.
pub fn split_format(text: &str) -> (&str, Option<&str>) {
    match text.rsplit_once('/') {
        Some((head, ext))
            if !ext.is_empty()
                && ext.len() <= 8
                && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            (head, Some(ext))
        }
        _ => (text, None),
    }
}

/// Parses `a|b|…`; every item must be a valid transformation.
pub fn parse_eager(text: &str) -> Result<Vec<Eager>, TransformationError> {
    text.split('|')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|item| {
            let (t, format) = split_format(item);
            Ok(Eager {
                transformation: Transformation::parse_str(t)?,
                format: format.map(str::to_ascii_lowercase),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_pipes() {
        let list = parse_eager("w_100,c_fill/jpg|c_scale,h_50/e_blur| ").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].transformation.to_string(), "c_fill,w_100");
        assert_eq!(list[0].format.as_deref(), Some("jpg"));
        assert_eq!(list[1].transformation.to_string(), "c_scale,h_50/e_blur");
        assert_eq!(list[1].format, None);
        assert_eq!(split_format("w_10"), ("w_10", None));
        assert!(parse_eager("w_abc").is_err());
    }
}
