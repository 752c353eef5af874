//! Blobs in an S3-compatible bucket (AWS, MinIO, s3s-fs, …): the store several nodes share.
//!
//! Selected by `--storage s3://BUCKET[/PREFIX]?endpoint=URL&region=R&path_style=true`;
//! credentials come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (and
//! `AWS_SESSION_TOKEN`). A blob is written with one PUT, or as a multipart upload when it is
//! larger than one part; a multipart upload that fails is aborted, so a blob exists whole or
//! not at all, and the catalog row that names it is written only after. Reads are ranged GETs.
//! libav needs files to seek in: [`LocalCache`] keeps recent blobs on local disk, and a blob
//! this node wrote goes there directly.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use super::{BlobReader, BlobStore, LocalCache, StagedFile, StoreError, safe_relative};

/// The smallest part S3 accepts (all but the last).
const MIN_PART: u64 = 5 * 1024 * 1024;

/// Where the bucket is, parsed from an `s3://` storage URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Prepended to every key (`""` or ending in `/`).
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub path_style: bool,
    /// Blobs larger than this go up as multipart uploads of parts this big.
    pub part_size: u64,
}

impl S3Location {
    pub fn parse(url: &str) -> Result<S3Location, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{url:?} is not an s3:// URL"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid_bucket {
            return Err(format!("{bucket:?} is not a bucket name"));
        }
        let prefix = prefix.trim_matches('/');
        let mut location = S3Location {
            bucket: bucket.into(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            endpoint: None,
            region: "us-east-1".into(),
            path_style: false,
            part_size: 8 * 1024 * 1024,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                "endpoint" => location.endpoint = Some(value.into()),
                "region" => location.region = value.into(),
                "path_style" => location.path_style = matches!(value, "true" | "1"),
                "part_size_mb" => {
                    let mb: u64 = value
                        .parse()
                        .map_err(|_| format!("part_size_mb={value:?} is not a number"))?;
                    location.part_size = (mb * 1024 * 1024).max(MIN_PART);
                }
                other => return Err(format!("unknown s3 URL parameter {other:?}")),
            }
        }
        Ok(location)
    }
}

#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    location: S3Location,
    cache: LocalCache,
}

impl S3Store {
    /// Connects, and creates the bucket when it does not exist yet.
    pub async fn open(location: S3Location, cache: LocalCache) -> Result<S3Store, StoreError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(key), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(StoreError::Unavailable {
                step: "credentials",
                message: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
            });
        };
        let credentials = Credentials::new(key, secret, env("AWS_SESSION_TOKEN"), None, "env");
        // Short attempts: a store that is down is reported (503) in seconds, not minutes.
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .read_timeout(Duration::from_secs(30))
            .build();
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(location.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(location.path_style)
            .timeout_config(timeouts);
        if let Some(endpoint) = &location.endpoint {
            config = config.endpoint_url(endpoint);
        }
        let store = S3Store {
            client: Client::from_conf(config.build()),
            location,
            cache,
        };
        store.ensure_bucket().await?;
        Ok(store)
    }

    async fn ensure_bucket(&self) -> Result<(), StoreError> {
        let bucket = &self.location.bucket;
        match self.client.head_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                tracing::info!(bucket, "creating the bucket");
                self.client
                    .create_bucket()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(|e| failure("create bucket", bucket, &e))?;
                Ok(())
            }
            Err(e) => Err(failure("open bucket", bucket, &e)),
        }
    }

    fn object(&self, key: &str) -> Result<String, StoreError> {
        safe_relative(key)?;
        Ok(format!("{}{key}", self.location.prefix))
    }

    async fn put_multipart(&self, object: &str, file: &Path, len: u64) -> Result<(), StoreError> {
        let bucket = &self.location.bucket;
        let created = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(object)
            .send()
            .await
            .map_err(|e| failure("start multipart upload", object, &e))?;
        let upload_id = created.upload_id().unwrap_or_default().to_string();
        let result = self.upload_parts(object, &upload_id, file, len).await;
        if result.is_err() {
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(bucket)
                .key(object)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        result
    }

    async fn upload_parts(
        &self,
        object: &str,
        upload_id: &str,
        file: &Path,
        len: u64,
    ) -> Result<(), StoreError> {
        let bucket = &self.location.bucket;
        let size = self.location.part_size;
        let mut parts = Vec::new();
        let mut offset = 0;
        while offset < len {
            let number = i32::try_from(parts.len() + 1).unwrap_or(i32::MAX);
            let body = ByteStream::read_from()
                .path(file)
                .offset(offset)
                .length(Length::Exact(size.min(len - offset)))
                .build()
                .await
                .map_err(|e| StoreError::Read {
                    key: object.into(),
                    source: std::io::Error::other(e),
                })?;
            let done = self
                .client
                .upload_part()
                .bucket(bucket)
                .key(object)
                .upload_id(upload_id)
                .part_number(number)
                .body(body)
                .send()
                .await
                .map_err(|e| failure("upload part", object, &e))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(done.e_tag().map(str::to_string))
                    .build(),
            );
            offset += size;
        }
        self.client
            .complete_multipart_upload()
            .bucket(bucket)
            .key(object)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| failure("complete multipart upload", object, &e))?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl BlobStore for S3Store {
    async fn check(&self) -> Result<(), StoreError> {
        let bucket = &self.location.bucket;
        match self.client.head_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(match failure("check bucket", bucket, &e) {
                StoreError::Remote { step, message, .. } => {
                    StoreError::Unavailable { step, message }
                }
                other => other,
            }),
        }
    }

    async fn put(&self, key: &str, file: StagedFile) -> Result<(), StoreError> {
        let object = self.object(key)?;
        let len = file.len();
        let path = file.into_committed_path();
        let sent = if len > self.location.part_size {
            self.put_multipart(&object, &path, len).await
        } else {
            match ByteStream::from_path(&path).await {
                Ok(body) => self
                    .client
                    .put_object()
                    .bucket(&self.location.bucket)
                    .key(&object)
                    .body(body)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| failure("put", &object, &e)),
                Err(e) => Err(StoreError::Read {
                    key: key.into(),
                    source: std::io::Error::other(e),
                }),
            }
        };
        // The file this node just wrote is the first local copy.
        let kept = match &sent {
            Ok(()) => self.cache.adopt(key, &path).await.is_ok(),
            Err(_) => false,
        };
        if !kept {
            let _ = tokio::fs::remove_file(&path).await;
        }
        sent
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<BlobReader, StoreError> {
        if let Some(path) = self.cache.get(key).await {
            return super::read_file(key, &path, range).await;
        }
        let object = self.object(key)?;
        let mut get = self
            .client
            .get_object()
            .bucket(&self.location.bucket)
            .key(&object);
        if let Some(r) = &range {
            if r.end <= r.start {
                return Ok(Box::pin(tokio::io::empty()));
            }
            get = get.range(format!("bytes={}-{}", r.start, r.end - 1));
        }
        match get.send().await {
            Ok(out) => Ok(Box::pin(out.body.into_async_read())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                Err(StoreError::NotFound(key.into()))
            }
            Err(e) => Err(failure("get", &object, &e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let object = self.object(key)?;
        self.cache.remove(key).await;
        self.client
            .delete_object()
            .bucket(&self.location.bucket)
            .key(&object)
            .send()
            .await
            .map_err(|e| failure("delete", &object, &e))?;
        Ok(())
    }

    async fn local_copy(&self, key: &str) -> Result<PathBuf, StoreError> {
        if let Some(path) = self.cache.get(key).await {
            return Ok(path);
        }
        let reader = self.read(key, None).await?;
        self.cache.fill(key, reader).await
    }
}

/// An SDK failure as a store error: no answer, or a 5xx one (SlowDown, InternalError,
/// ServiceUnavailable), is `Unavailable` (503, retry); other answers are `Remote`.
fn failure<E>(step: &'static str, key: &str, e: &SdkError<E, HttpResponse>) -> StoreError
where
    E: std::error::Error + 'static,
{
    let message = DisplayErrorContext(e).to_string();
    let no_answer = matches!(e, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_));
    let server_trouble = e
        .raw_response()
        .is_some_and(|r| r.status().is_server_error());
    if no_answer || server_trouble {
        StoreError::Unavailable { step, message }
    } else {
        StoreError::Remote {
            step,
            key: key.into(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_urls_name_bucket_prefix_and_endpoint() {
        let l = S3Location::parse(
            "s3://media-bucket/kino/prod?endpoint=http://127.0.0.1:9000&region=eu-west-1&path_style=true",
        )
        .unwrap();
        assert_eq!(l.bucket, "media-bucket");
        assert_eq!(l.prefix, "kino/prod/");
        assert_eq!(l.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(l.region, "eu-west-1");
        assert!(l.path_style);
        assert_eq!(S3Location::parse("s3://b12").unwrap().prefix, "");
        assert!(S3Location::parse("s3://B_ad").is_err());
        assert!(S3Location::parse("s3://bucket?colour=red").is_err());
        assert!(S3Location::parse("file:///x").is_err());
        assert_eq!(
            S3Location::parse("s3://bucket?part_size_mb=1")
                .unwrap()
                .part_size,
            MIN_PART
        );
    }
}
