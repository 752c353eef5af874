//! Bringing a `file` that is not a file part into the staging area: a remote `http(s)://`
//! URL (streamed, size-capped, time-limited) or a `data:` URI.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use futures::StreamExt;

use super::{Kino, ServiceError};
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
        let response = self
            .http
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

fn describe_reqwest(e: &reqwest::Error) -> String {
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
