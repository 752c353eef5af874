//! Chunked uploads as the SDKs' `upload_large` sends them: every chunk is a complete signed
//! upload request with `X-Unique-Upload-Id` and `Content-Range: bytes S-E/TOTAL` (`TOTAL` is
//! `-1` on Node's non-final chunks). Chunks are written at their offsets into one file in
//! `chunks/`; when every byte of `TOTAL` has arrived the file becomes an ordinary staged upload.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{Kino, ServiceError};
use crate::store::{StagedFile, StoreError};

/// One chunk's place in the whole upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRange {
    pub start: u64,
    /// Inclusive, as in `Content-Range`.
    pub end: u64,
    pub total: Option<u64>,
}

/// Parses `bytes S-E/TOTAL` (TOTAL may be `-1` or `*`).
pub fn parse_content_range(header: &str) -> Result<ChunkRange, ServiceError> {
    let bad = || ServiceError::BadInput(format!("Invalid Content-Range header {header:?}"));
    let spec = header.trim().strip_prefix("bytes").ok_or_else(bad)?.trim();
    let (range, total) = spec.split_once('/').ok_or_else(bad)?;
    let (start, end) = range.split_once('-').ok_or_else(bad)?;
    let start: u64 = start.trim().parse().map_err(|_| bad())?;
    let end: u64 = end.trim().parse().map_err(|_| bad())?;
    let total = match total.trim() {
        "-1" | "*" => None,
        t => Some(t.parse::<u64>().map_err(|_| bad())?),
    };
    if end < start || total.is_some_and(|t| end >= t) {
        return Err(bad());
    }
    Ok(ChunkRange { start, end, total })
}

/// What a chunk did to its upload.
#[derive(Debug)]
pub enum ChunkProgress {
    /// More chunks are expected; `bytes` have arrived so far.
    Partial { bytes: u64 },
    /// Every byte is here; the assembled file is ready to ingest.
    Complete(StagedFile),
}

/// The directory of partial uploads, and a lock per upload id.
#[derive(Debug, Clone)]
pub struct ChunkArea {
    dir: PathBuf,
    staging_dir: PathBuf,
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    total: Option<u64>,
    /// Received byte ranges, half-open, merged.
    received: Vec<(u64, u64)>,
}

impl Progress {
    fn add(&mut self, start: u64, end_exclusive: u64) {
        self.received.push((start, end_exclusive));
        self.received.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (s, e) in self.received.drain(..) {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.received = merged;
    }
    fn bytes(&self) -> u64 {
        self.received.iter().map(|(s, e)| e - s).sum()
    }
    fn complete(&self) -> bool {
        self.total
            .is_some_and(|t| self.received.first().is_some_and(|r| *r == (0, t)))
    }
}

impl ChunkArea {
    pub fn open(dir: PathBuf, staging_dir: PathBuf) -> std::io::Result<ChunkArea> {
        std::fs::create_dir_all(&dir)?;
        Ok(ChunkArea {
            dir,
            staging_dir,
            locks: Arc::default(),
        })
    }

    fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(key.to_string()).or_default().clone()
    }

    fn forget_lock(&self, key: &str) {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.remove(key);
    }
}

fn io_err(step: &'static str) -> impl FnOnce(std::io::Error) -> ServiceError {
    move |e| {
        ServiceError::Store(StoreError::WriteStaging(std::io::Error::new(
            e.kind(),
            format!("{step}: {e}"),
        )))
    }
}

impl Kino {
    /// Adds one chunk (already staged) to the upload `upload_id` of `cloud`.
    pub async fn receive_chunk(
        &self,
        cloud: &str,
        upload_id: &str,
        range: ChunkRange,
        chunk: StagedFile,
    ) -> Result<ChunkProgress, ServiceError> {
        let valid_id = !upload_id.is_empty()
            && upload_id.len() <= 64
            && upload_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid_id {
            return Err(ServiceError::BadInput(format!(
                "Invalid X-Unique-Upload-Id {upload_id:?}"
            )));
        }
        if chunk.len() != range.end - range.start + 1 {
            return Err(ServiceError::BadInput(format!(
                "Chunk size {} does not match Content-Range bytes {}-{}",
                chunk.len(),
                range.start,
                range.end
            )));
        }
        let limit = self.max_upload_bytes();
        if range.end >= limit || range.total.is_some_and(|t| t > limit) {
            return Err(ServiceError::TooLarge(format!(
                "File size too large. Maximum is {limit}."
            )));
        }
        let key = format!("{cloud}__{upload_id}");
        let lock = self.chunks.lock_for(&key);
        let _guard = lock.lock().await;
        let data_path = self.chunks.dir.join(format!("{key}.data"));
        let meta_path = self.chunks.dir.join(format!("{key}.json"));
        let mut progress: Progress = match tokio::fs::read(&meta_path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Err(_) => Progress::default(),
        };
        if let (Some(known), Some(new)) = (progress.total, range.total)
            && known != new
        {
            return Err(ServiceError::BadInput(format!(
                "Content-Range total {new} differs from this upload's earlier total {known}"
            )));
        }
        progress.total = progress.total.or(range.total);

        // The chunk's bytes may still be on their way to the file (tokio writes in the
        // background): flushed before they are copied.
        let mut chunk = chunk;
        chunk.flush().await?;
        let target = write_at(chunk.path(), &data_path, range.start).await?;
        drop(chunk);
        progress.add(range.start, range.end + 1);
        let meta = serde_json::to_vec(&progress).unwrap_or_default();
        tokio::fs::write(&meta_path, meta)
            .await
            .map_err(io_err("write progress"))?;

        if !progress.complete() {
            return Ok(ChunkProgress::Partial {
                bytes: progress.bytes(),
            });
        }
        let total = progress.total.unwrap_or_default();
        target.set_len(total).await.map_err(io_err("trim upload"))?;
        drop(target);
        let md5 = md5_of(&data_path).await.map_err(io_err("hash upload"))?;
        let staged_path = self
            .chunks
            .staging_dir
            .join(format!("{key}.assembled.part"));
        tokio::fs::rename(&data_path, &staged_path)
            .await
            .map_err(io_err("move upload"))?;
        let _ = tokio::fs::remove_file(&meta_path).await;
        self.chunks.forget_lock(&key);
        Ok(ChunkProgress::Complete(StagedFile::adopt(
            staged_path,
            total,
            md5,
        )))
    }
}

/// Copies the staged chunk into the upload file at `offset`; returns the (open) upload file.
async fn write_at(
    chunk: &std::path::Path,
    data_path: &std::path::Path,
    offset: u64,
) -> Result<tokio::fs::File, ServiceError> {
    let mut source = tokio::fs::File::open(chunk)
        .await
        .map_err(io_err("open chunk"))?;
    let mut target = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(data_path)
        .await
        .map_err(io_err("open upload"))?;
    target
        .seek(SeekFrom::Start(offset))
        .await
        .map_err(io_err("seek upload"))?;
    tokio::io::copy(&mut source, &mut target)
        .await
        .map_err(io_err("write chunk"))?;
    target.sync_all().await.map_err(io_err("sync upload"))?;
    Ok(target)
}

async fn md5_of(path: &std::path::Path) -> std::io::Result<Md5> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let _ = file.flush().await;
    Ok(hasher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_forms() {
        assert_eq!(
            parse_content_range("bytes 0-11/30").unwrap(),
            ChunkRange {
                start: 0,
                end: 11,
                total: Some(30)
            }
        );
        assert_eq!(
            parse_content_range("bytes 12-23/-1").unwrap(),
            ChunkRange {
                start: 12,
                end: 23,
                total: None
            }
        );
        for bad in [
            "bytes 5-4/10",
            "bytes 0-10/10",
            "0-1/2",
            "bytes a-b/c",
            "bytes 0-1",
        ] {
            assert!(parse_content_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn progress_merges_ranges_and_knows_when_complete() {
        let mut p = Progress {
            total: Some(30),
            ..Progress::default()
        };
        p.add(12, 24);
        assert!(!p.complete());
        p.add(0, 12);
        p.add(24, 30);
        assert_eq!(p.received, vec![(0, 30)]);
        assert_eq!(p.bytes(), 30);
        assert!(p.complete());
    }
}
