//! Webhook notifications: a JSON body POSTed to the caller's URL, signed as Cloudinary signs
//! them (`X-Cld-Timestamp`, and `X-Cld-Signature` = hex SHA-1 of body + timestamp + secret),
//! so the SDKs' `verify_notification_signature` accepts them.
//!
//! The body is fixed when the notification is queued; the timestamp and signature are made at
//! each attempt, so a retry is signed fresh.

use serde::{Deserialize, Serialize};

use super::Kino;
use super::jobs::JobFailure;
use crate::signing::{Algorithm, hex_digest};

/// A notification waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub url: String,
    /// The exact JSON text that is sent and signed.
    pub body: String,
}

/// The `X-Cld-Signature` of `body` sent at `timestamp`.
pub fn signature(body: &str, timestamp: i64, secret: &str, algorithm: Algorithm) -> String {
    hex_digest(&format!("{body}{timestamp}"), secret, algorithm)
}

/// Whether `url` may receive notifications: http(s) only.
pub fn check_url(url: &str) -> Result<(), String> {
    match ::url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(format!(
            "Invalid notification URL {url:?}: use an http(s) URL"
        )),
    }
}

impl Kino {
    /// POSTs a notification of `cloud` once, signed with its main secret; any answer but
    /// 2xx is a failure worth retrying.
    pub(super) async fn deliver(&self, cloud: &str, n: &Notification) -> Result<(), JobFailure> {
        check_url(&n.url).map_err(JobFailure::GiveUp)?;
        let env = self
            .environment(cloud)
            .await
            .map_err(|e| JobFailure::GiveUp(format!("product environment {cloud}: {e}")))?;
        let timestamp = chrono::Utc::now().timestamp();
        let secret = env.api_secret.as_str();
        let response = self
            .http
            .post(&n.url)
            .timeout(std::time::Duration::from_secs(
                self.jobs.settings.notify_timeout_secs,
            ))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Cld-Timestamp", timestamp.to_string())
            .header(
                "X-Cld-Signature",
                signature(&n.body, timestamp, secret, Algorithm::Sha1),
            )
            .body(n.body.clone())
            .send()
            .await
            .map_err(|e| JobFailure::Retry(format!("POST {}: {e}", n.url)))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(JobFailure::Retry(format!("POST {}: HTTP {status}", n.url)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_reference_vectors() {
        let body = r#"{"notification_type":"eager","eager":[{"transformation":"sp_full_hd/mp4","bytes":1055,"url":"http://res.cloudinary.com/demo/video/upload/sp_full_hd/v1533125278/dog.mp4","secure_url":"https://res.cloudinary.com/demo/video/upload/sp_full_hd/v1533125278/dog.mp4"}],"public_id":"dog","batch_id":"9b11fa058c61fa577f4ec516bf6ee756ac2aefef095af99aef1302142cc1694a"}"#;
        assert_eq!(
            signature(
                body,
                1_549_533_514,
                "X7qLTrsES31MzxxkxPPA-pAGGfU",
                Algorithm::Sha1
            ),
            "dfe82de1d9083fe0b7ea68070649f9a15b8874da"
        );
        assert_eq!(
            signature("{}", 0, "someApiSecret", Algorithm::Sha256),
            "d5497e1a206ad0ba29ad09a7c0c5f22e939682d15009c15ab3199f62fefbd14b"
        );
    }

    #[test]
    fn only_http_urls_are_notified() {
        assert!(check_url("http://127.0.0.1:9000/hook?a=1").is_ok());
        assert!(check_url("https://example.com/h").is_ok());
        assert!(check_url("file:///etc/passwd").is_err());
        assert!(check_url("not a url").is_err());
    }
}
