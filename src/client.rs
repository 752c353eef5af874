//! `kino upload` and `kino url`: a small client of a running Kino for the command line, signed
//! with the account's credentials like an SDK. Uploads stream from disk in chunks (the SDKs'
//! chunked protocol: `X-Unique-Upload-Id` and `Content-Range`), with a progress bar on a
//! terminal; URLs are built, and signed on request, as the SDKs build them.

use std::path::Path;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::AsyncReadExt;

use crate::account::Account;
use crate::params::Params;
use crate::signing::{self, Algorithm};

/// What to upload and where.
#[derive(Debug)]
pub struct Upload<'a> {
    pub base: &'a str,
    pub file: &'a Path,
    pub resource_type: &'a str,
    pub public_id: Option<&'a str>,
    pub folder: Option<&'a str>,
    pub chunk_bytes: u64,
}

/// Uploads a file; the server's JSON answer, or why it failed.
pub async fn upload(account: &Account, job: &Upload<'_>) -> Result<serde_json::Value, String> {
    let size = tokio::fs::metadata(job.file)
        .await
        .map_err(|e| format!("{}: {e}", job.file.display()))?
        .len();
    let name = job
        .file
        .file_name()
        .map_or_else(|| "file".to_string(), |n| n.to_string_lossy().into_owned());
    let fields = signed_fields(account, job);
    let url = format!(
        "{}/v1_1/{}/{}/upload",
        job.base.trim_end_matches('/'),
        account.cloud_name,
        job.resource_type
    );
    let bar = progress_bar(size);
    let client = reqwest::Client::new();
    let chunk = job.chunk_bytes.max(1);
    let upload_id = format!("{:032x}", rand::random::<u128>());
    let mut file = tokio::fs::File::open(job.file)
        .await
        .map_err(|e| format!("{}: {e}", job.file.display()))?;
    let mut start = 0u64;
    loop {
        let len = chunk.min(size - start);
        let mut piece = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        (&mut file)
            .take(len)
            .read_to_end(&mut piece)
            .await
            .map_err(|e| format!("{}: {e}", job.file.display()))?;
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in &fields {
            form = form.text(k.clone(), v.clone());
        }
        let part = reqwest::multipart::Part::stream_with_length(counted(piece, bar.clone()), len)
            .file_name(name.clone());
        form = form.part("file", part);
        let mut request = client.post(&url).multipart(form);
        if size > chunk {
            let end = (start + len).saturating_sub(1);
            request = request
                .header("X-Unique-Upload-Id", &upload_id)
                .header("Content-Range", format!("bytes {start}-{end}/{size}"));
        }
        let response = request.send().await.map_err(|e| format!("{url}: {e}"))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("{url}: reading the answer: {e}"))?;
        let body: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{url}: the answer is not JSON: {e}"))?;
        if !status.is_success() {
            bar.abandon();
            let message = body["error"]["message"].as_str().unwrap_or("no message");
            return Err(format!("upload refused ({status}): {message}"));
        }
        start += len;
        if start >= size {
            bar.finish();
            return Ok(body);
        }
    }
}

/// The form fields of an upload, with the timestamp, API key and signature.
fn signed_fields(account: &Account, job: &Upload<'_>) -> Vec<(String, String)> {
    let mut fields = vec![(
        "timestamp".to_string(),
        chrono::Utc::now().timestamp().to_string(),
    )];
    if let Some(id) = job.public_id {
        fields.push(("public_id".into(), id.into()));
    }
    if let Some(folder) = job.folder {
        fields.push(("folder".into(), folder.into()));
    }
    let mut params = Params::new();
    for (k, v) in &fields {
        params.push(k, v.clone());
    }
    let signature = signing::hex_digest(
        &signing::string_to_sign(&params, signing::Version::V2),
        account.api_secret.expose(),
        Algorithm::Sha1,
    );
    fields.push(("api_key".into(), account.api_key.clone()));
    fields.push(("signature".into(), signature));
    fields
}

/// A chunk as a body stream that advances `bar` as it is sent.
fn counted(piece: Vec<u8>, bar: ProgressBar) -> reqwest::Body {
    let pieces: Vec<bytes::Bytes> = bytes::Bytes::from(piece)
        .chunks(64 * 1024)
        .map(bytes::Bytes::copy_from_slice)
        .collect();
    let stream = futures::stream::iter(pieces).map(move |b| {
        bar.inc(b.len() as u64);
        Ok::<_, std::io::Error>(b)
    });
    reqwest::Body::wrap_stream(stream)
}

/// A byte progress bar on stderr, drawn only when stderr is a terminal.
fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// What a delivery URL asks for.
#[derive(Debug)]
pub struct UrlSpec<'a> {
    pub base: &'a str,
    pub public_id: &'a str,
    pub resource_type: &'a str,
    pub delivery_type: &'a str,
    pub transformation: Option<&'a str>,
    pub format: Option<&'a str>,
    pub sign: bool,
    /// The 32-character SHA-256 signature instead of 8 characters of SHA-1.
    pub long_signature: bool,
}

/// The delivery URL, signed as the SDKs sign it when asked.
pub fn delivery_url(account: &Account, spec: &UrlSpec<'_>) -> String {
    let source = match spec.format {
        Some(ext) => format!("{}.{ext}", spec.public_id),
        None => spec.public_id.to_string(),
    };
    let tail = match spec.transformation.filter(|t| !t.is_empty()) {
        Some(t) => format!("{t}/{source}"),
        None => source,
    };
    let signature = if spec.sign {
        let algorithm = if spec.long_signature {
            Algorithm::Sha256
        } else {
            Algorithm::Sha1
        };
        let s = signing::url_signature(
            &tail,
            account.api_secret.expose(),
            algorithm,
            spec.long_signature,
        );
        format!("s--{s}--/")
    } else {
        String::new()
    };
    format!(
        "{}/{}/{}/{}/{signature}{tail}",
        spec.base.trim_end_matches('/'),
        account.cloud_name,
        spec.resource_type,
        spec.delivery_type
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Secret;

    fn account() -> Account {
        Account {
            cloud_name: "demo".into(),
            api_key: "123".into(),
            api_secret: Secret::new("abcd"),
        }
    }

    #[test]
    fn urls_are_signed_over_the_transformation_and_the_source() {
        let spec = UrlSpec {
            base: "http://k:8080/",
            public_id: "sample",
            resource_type: "image",
            delivery_type: "upload",
            transformation: Some("c_scale,w_300"),
            format: Some("jpg"),
            sign: true,
            long_signature: false,
        };
        let url = delivery_url(&account(), &spec);
        let sig =
            signing::url_signature("c_scale,w_300/sample.jpg", "abcd", Algorithm::Sha1, false);
        assert_eq!(
            url,
            format!("http://k:8080/demo/image/upload/s--{sig}--/c_scale,w_300/sample.jpg")
        );
        assert!(signing::verify_url(
            "c_scale,w_300/sample.jpg",
            &sig,
            "abcd"
        ));
        let plain = delivery_url(
            &account(),
            &UrlSpec {
                sign: false,
                transformation: None,
                format: None,
                ..spec
            },
        );
        assert_eq!(plain, "http://k:8080/demo/image/upload/sample");
    }
}
