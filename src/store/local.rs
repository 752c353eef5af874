//! The local-directory blob store, the embedded default.
//!
//! Commit = fsync (done by the staging file) + rename into place + fsync of the directory, so
//! after a crash a key holds either the whole blob or nothing.

use std::ops::Range;
use std::path::PathBuf;

use super::{BlobReader, BlobStore, StagedFile, StoreError, safe_relative};

/// Blobs as files under one root directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn open(root: PathBuf) -> std::io::Result<LocalStore> {
        std::fs::create_dir_all(&root)?;
        Ok(LocalStore { root })
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        Ok(self.root.join(safe_relative(key)?))
    }
}

#[async_trait::async_trait]
impl BlobStore for LocalStore {
    async fn check(&self) -> Result<(), StoreError> {
        match tokio::fs::metadata(&self.root).await {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(StoreError::Unavailable {
                step: "check",
                message: format!("{} is not a directory", self.root.display()),
            }),
            Err(e) => Err(StoreError::Unavailable {
                step: "check",
                message: format!("{}: {e}", self.root.display()),
            }),
        }
    }

    async fn put(&self, key: &str, file: StagedFile) -> Result<(), StoreError> {
        let target = self.path_of(key)?;
        let commit_err = |source| StoreError::Commit {
            key: key.into(),
            source,
        };
        let parent = target.parent().unwrap_or(&self.root).to_path_buf();
        tokio::fs::create_dir_all(&parent)
            .await
            .map_err(commit_err)?;
        let staged = file.into_committed_path();
        if let Err(e) = tokio::fs::rename(&staged, &target).await {
            let _ = tokio::fs::remove_file(&staged).await;
            return Err(commit_err(e));
        }
        // Make the rename itself durable.
        let dir = tokio::fs::File::open(&parent).await.map_err(commit_err)?;
        dir.sync_all().await.map_err(commit_err)?;
        Ok(())
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<BlobReader, StoreError> {
        super::read_file(key, &self.path_of(key)?, range).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Delete {
                key: key.into(),
                source,
            }),
        }
    }

    async fn local_copy(&self, key: &str) -> Result<PathBuf, StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::try_exists(&path).await {
            Ok(true) => Ok(path),
            _ => Err(StoreError::NotFound(key.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Staging;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn put_read_range_delete() {
        let dir = std::env::temp_dir().join(format!("kino-local-{}", std::process::id()));
        let staging = Staging::open(dir.join("tmp")).unwrap();
        let store = LocalStore::open(dir.join("blobs")).unwrap();
        let mut staged = staging.create(100).await.unwrap();
        staged.write(b"hello world").await.unwrap();
        staged.finish().await.unwrap();
        assert_eq!(staged.md5_hex(), "5eb63bbbe01eeed093cb22bb8f5acdc3");
        let staged_path = staged.path().to_path_buf();
        store.put("a/b/c", staged).await.unwrap();
        assert!(!staged_path.exists(), "staging file was moved, not copied");

        let mut all = String::new();
        store
            .read("a/b/c", None)
            .await
            .unwrap()
            .read_to_string(&mut all)
            .await
            .unwrap();
        assert_eq!(all, "hello world");
        let mut part = String::new();
        store
            .read("a/b/c", Some(6..9))
            .await
            .unwrap()
            .read_to_string(&mut part)
            .await
            .unwrap();
        assert_eq!(part, "wor");

        store.delete("a/b/c").await.unwrap();
        store.delete("a/b/c").await.unwrap();
        assert!(matches!(
            store.read("a/b/c", None).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.read("../x", None).await,
            Err(StoreError::BadKey(_))
        ));
    }

    #[tokio::test]
    async fn staging_refuses_past_the_limit_and_cleans_up() {
        let dir = std::env::temp_dir().join(format!("kino-staging-{}", std::process::id()));
        let staging = Staging::open(dir).unwrap();
        let mut staged = staging.create(4).await.unwrap();
        staged.write(b"abcd").await.unwrap();
        assert!(matches!(
            staged.write(b"e").await,
            Err(StoreError::TooLarge { limit: 4 })
        ));
        let path = staged.path().to_path_buf();
        drop(staged);
        assert!(!path.exists(), "a dropped staging file is removed");
    }
}
