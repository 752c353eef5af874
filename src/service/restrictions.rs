//! Delivery restrictions of the account (Cloudinary's security settings): strict referral
//! domains, and formats or delivery types only signed URLs may deliver. A URL with a valid
//! `s--…--` signature passes them all: signing is how the account's own pages and tools get
//! what the restrictions keep from everyone else.

use super::{Kino, ServiceError};
use crate::config::Security;
use crate::url::DeliveryPath;

/// Why an unsigned delivery is refused, if it is.
fn refusal(
    security: &Security,
    path: &DeliveryPath,
    format: &str,
    referer: Option<&str>,
) -> Option<String> {
    let kind = path.delivery_type.as_str();
    if Security::list(&security.restricted_types)
        .iter()
        .any(|t| t == kind)
    {
        return Some(format!(
            "Delivery of {kind} resources is restricted for this account; sign the URL"
        ));
    }
    let format = format.to_ascii_lowercase();
    if Security::list(&security.restricted_formats).contains(&format) {
        return Some(format!(
            "Delivery of .{format} files is restricted for this account; sign the URL"
        ));
    }
    let allowed = Security::list(&security.allowed_referrers);
    if allowed.is_empty() {
        return None;
    }
    let Some(referer) = referer else {
        return (!security.allow_missing_referrer).then(|| {
            "A Referer from an allowed domain is required (strict referral is on)".to_string()
        });
    };
    let host = url::Url::parse(referer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    match host {
        Some(h) if allowed.iter().any(|d| domain_matches(&h, d)) => None,
        Some(h) => Some(format!(
            "Requests from {h} are not allowed (strict referral is on)"
        )),
        None => Some("The Referer is not a URL (strict referral is on)".to_string()),
    }
}

/// `host` is `domain` or one of its subdomains.
fn domain_matches(host: &str, domain: &str) -> bool {
    let domain = domain.trim_start_matches("*.");
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

impl Kino {
    /// Refuses an unsigned delivery of `format` that the account's restrictions forbid; a
    /// signed one is checked for a valid signature instead.
    pub async fn check_restrictions(
        &self,
        path: &DeliveryPath,
        format: &str,
        referer: Option<&str>,
    ) -> Result<(), ServiceError> {
        let Some(why) = refusal(&self.security, path, format, referer) else {
            return Ok(());
        };
        match &path.signature {
            Some(sig) if self.url_signed(&path.cloud, &path.signed_text, sig).await? => Ok(()),
            Some(_) => Err(ServiceError::Unauthorized(
                "Invalid signature in the URL".into(),
            )),
            None => Err(ServiceError::Unauthorized(why)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::parse_delivery_path;

    fn security(referrers: &str, formats: &str, types: &str) -> Security {
        Security {
            allowed_referrers: referrers.into(),
            restricted_formats: formats.into(),
            restricted_types: types.into(),
            ..Security::default()
        }
    }

    fn refused(s: &Security, url: &str, format: &str, referer: Option<&str>) -> Option<String> {
        let path = parse_delivery_path(url).expect("a delivery path");
        refusal(s, &path, format, referer)
    }

    #[test]
    fn nothing_is_restricted_by_default() {
        let s = Security::default();
        assert_eq!(refused(&s, "/demo/image/upload/a.pdf", "pdf", None), None);
    }

    #[test]
    fn referrers_match_their_domain_and_its_subdomains_only() {
        let s = security("example.com, *.media.org", "", "");
        let url = "/demo/image/upload/a.jpg";
        for ok in [
            "https://example.com/page",
            "http://www.example.com:8080/x",
            "https://cdn.media.org/",
            "https://MEDIA.org",
        ] {
            assert_eq!(refused(&s, url, "jpg", Some(ok)), None, "{ok}");
        }
        for bad in ["https://badexample.com/", "https://example.com.evil.net/"] {
            let why = refused(&s, url, "jpg", Some(bad)).expect(bad);
            assert!(why.contains("are not allowed"), "{why}");
        }
        assert!(refused(&s, url, "jpg", Some("not a url")).is_some());
        assert!(refused(&s, url, "jpg", None).unwrap().contains("required"));
        let lenient = Security {
            allow_missing_referrer: true,
            ..s
        };
        assert_eq!(refused(&lenient, url, "jpg", None), None);
    }

    #[test]
    fn formats_and_types_are_refused_by_name() {
        let s = security("", "pdf, .ZIP", "private");
        assert_eq!(
            refused(&s, "/demo/image/upload/a.pdf", "pdf", None).unwrap(),
            "Delivery of .pdf files is restricted for this account; sign the URL"
        );
        assert!(refused(&s, "/demo/raw/upload/a.zip", "zip", None).is_some());
        assert_eq!(refused(&s, "/demo/image/upload/a.jpg", "jpg", None), None);
        assert_eq!(
            refused(&s, "/demo/image/private/a.jpg", "jpg", None).unwrap(),
            "Delivery of private resources is restricted for this account; sign the URL"
        );
    }
}
