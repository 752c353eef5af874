//! The staging area: where incoming bytes are written before they become a blob.
//!
//! A [`StagedFile`] counts and hashes (MD5, Cloudinary's `etag`) what streams through it and
//! refuses to grow past its limit. It deletes its file when dropped unless it was committed,
//! so a failed or refused upload leaves nothing behind.

use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use rand::Rng;
use tokio::io::AsyncWriteExt;

use super::StoreError;

/// The directory of staging files; on the same filesystem as the local store, so commit is a rename.
#[derive(Debug, Clone)]
pub struct Staging {
    dir: PathBuf,
}

impl Staging {
    /// Creates the directory and removes leftovers of a previous run (crash or kill -9).
    pub fn open(dir: PathBuf) -> std::io::Result<Staging> {
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(&dir)?.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Staging { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A new empty staging file that may grow to `limit` bytes.
    pub async fn create(&self, limit: u64) -> Result<StagedFile, StoreError> {
        let name: String = {
            let mut rng = rand::thread_rng();
            (0..24)
                .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
                .collect()
        };
        let path = self.dir.join(format!("{name}.part"));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(StoreError::CreateStaging)?;
        Ok(StagedFile {
            path,
            file: Some(file),
            len: 0,
            limit,
            md5: Box::new(Md5::new()),
            keep: false,
        })
    }
}

/// A file being written in the staging area.
#[derive(Debug)]
pub struct StagedFile {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    len: u64,
    limit: u64,
    md5: Box<Md5>,
    keep: bool,
}

impl StagedFile {
    /// Appends bytes; fails with [`StoreError::TooLarge`] past the limit.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        let new_len = self.len + chunk.len() as u64;
        if new_len > self.limit {
            return Err(StoreError::TooLarge { limit: self.limit });
        }
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| StoreError::WriteStaging(std::io::Error::other("file is finished")))?;
        file.write_all(chunk)
            .await
            .map_err(StoreError::WriteStaging)?;
        self.md5.update(chunk);
        self.len = new_len;
        Ok(())
    }

    /// Hands everything written so far to the OS, so that reading the file sees it (tokio
    /// writes in the background: a read right after `write` can see less).
    pub async fn flush(&mut self) -> Result<(), StoreError> {
        if let Some(file) = self.file.as_mut() {
            file.flush().await.map_err(StoreError::WriteStaging)?;
        }
        Ok(())
    }

    /// Flushes and fsyncs; after this the file is complete and may be probed or committed.
    pub async fn finish(&mut self) -> Result<(), StoreError> {
        if let Some(mut file) = self.file.take() {
            file.flush().await.map_err(StoreError::WriteStaging)?;
            file.sync_all().await.map_err(StoreError::WriteStaging)?;
        }
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hex MD5 of everything written so far.
    pub fn md5_hex(&self) -> String {
        hex::encode(self.md5.as_ref().clone().finalize())
    }

    /// Hands the file over to a store, which now owns (and must move or delete) it.
    pub(crate) fn into_committed_path(mut self) -> PathBuf {
        self.keep = true;
        self.path.clone()
    }

    /// Adopts an existing file in the staging directory (an assembled chunked upload).
    pub(crate) fn adopt(path: PathBuf, len: u64, md5_hex_of: Md5) -> StagedFile {
        StagedFile {
            path,
            file: None,
            len,
            limit: len,
            md5: Box::new(md5_hex_of),
            keep: false,
        }
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
