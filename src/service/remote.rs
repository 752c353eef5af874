//! Bringing a `file` that is not a file part into the staging area: a remote `http(s)://`
//! URL (streamed, size-capped, time-limited) or a `data:` URI.
//!
//! Remote URLs go through a client that connects only to addresses the [`Guard`] allows: its
//! resolver drops refused addresses from every lookup (so a name cannot be re-pointed between
//! check and connect), IP literals are checked before asking, and every redirect is checked
//! again.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use futures::StreamExt;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::{Kino, ServiceError};
use crate::netguard::Guard;
use crate::store::StagedFile;

/// Standard base64 that accepts data URIs with or without `=` padding.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl Kino {
    /// Streams `url` into a staging file.
    pub async fn fetch_remote(&self, url: &str) -> Result<StagedFile, ServiceError> {
        let parsed = ::url::Url::parse(url)
            .map_err(|e| ServiceError::BadInput(format!("Invalid file URL {url}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ServiceError::BadInput(format!(
                "Unsupported file URL scheme {}: use http or https",
                parsed.scheme()
            )));
        }
        let load_err =
            |reason: String| ServiceError::BadInput(format!("Error in loading {url} - {reason}"));
        if let Some(refused) = literal_refusal(&self.guard, &parsed) {
            return Err(load_err(refused.0));
        }
        let response = self
            .fetcher
            .get(parsed)
            .send()
            .await
            .map_err(|e| load_err(describe_reqwest(&e)))?;
        let status = response.status();
        if status.as_u16() == 404 {
            return Err(ServiceError::NotFound(format!(
                "Resource not found - {url}"
            )));
        }
        if !status.is_success() {
            return Err(load_err(format!("server answered {status}")));
        }
        let limit = self.max_upload_bytes();
        if let Some(len) = response.content_length()
            && len > limit
        {
            return Err(ServiceError::TooLarge(format!(
                "File size too large. Got {len}. Maximum is {limit}."
            )));
        }
        let mut staged = self.staging.create(limit).await?;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| load_err(describe_reqwest(&e)))?;
            staged
                .write(&chunk)
                .await
                .map_err(ServiceError::from_store_limit)?;
        }
        Ok(staged)
    }

    /// Decodes a `data:[<mime>][;base64],<data>` URI into a staging file.
    pub async fn stage_data_uri(&self, uri: &str) -> Result<StagedFile, ServiceError> {
        let rest = uri.strip_prefix("data:").unwrap_or(uri);
        let (meta, data) = rest
            .split_once(',')
            .ok_or_else(|| ServiceError::BadInput("Invalid data URI: missing ','".into()))?;
        let bytes = if meta.ends_with(";base64") {
            let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
            LENIENT_BASE64.decode(compact).map_err(|e| {
                ServiceError::BadInput(format!("Invalid data URI: bad base64 ({e})"))
            })?
        } else {
            percent_encoding::percent_decode_str(data).collect()
        };
        let mut staged = self.staging.create(self.max_upload_bytes()).await?;
        staged
            .write(&bytes)
            .await
            .map_err(ServiceError::from_store_limit)?;
        Ok(staged)
    }
}

/// A refusal by the guard, carried through reqwest's errors to the message.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The client that fetches media from users' URLs: guarded resolver, redirects re-checked,
/// no proxy from the environment (a proxy would hide the address actually reached).
pub fn guarded_client(guard: Arc<Guard>, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    let redirects = guard.clone();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver { guard }))
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                return attempt.error(Refused("too many redirects".into()));
            }
            if !matches!(attempt.url().scheme(), "http" | "https") {
                let scheme = attempt.url().scheme().to_string();
                return attempt.error(Refused(format!("a redirect to a {scheme} URL")));
            }
            match literal_refusal(&redirects, attempt.url()) {
                Some(refused) => attempt.error(refused),
                None => attempt.follow(),
            }
        }))
        .build()
}

/// The refusal of a URL whose host is an IP address the guard refuses.
fn literal_refusal(guard: &Guard, url: &::url::Url) -> Option<Refused> {
    let ip = match url.host()? {
        ::url::Host::Ipv4(v4) => std::net::IpAddr::V4(v4),
        ::url::Host::Ipv6(v6) => std::net::IpAddr::V6(v6),
        ::url::Host::Domain(_) => return None,
    };
    guard
        .refusal(ip)
        .map(|what| Refused(format!("{ip} is {what}, which Kino does not fetch from")))
}

/// Resolves names and keeps only the addresses the guard allows.
struct GuardedResolver {
    guard: Arc<Guard>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.guard.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| guard.refusal(a.ip()).is_none())
                .collect();
            if allowed.is_empty() {
                let what = found
                    .first()
                    .and_then(|a| guard.refusal(a.ip()))
                    .unwrap_or("no address");
                let refused = Refused(format!(
                    "{host} resolves to {what}, which Kino does not fetch from"
                ));
                return Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

fn describe_reqwest(e: &reqwest::Error) -> String {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<Refused>() {
            return refused.0.clone();
        }
        source = s.source();
    }
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else if e.is_redirect() {
        "too many redirects".into()
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        text
    }
}
