//! A bounded local cache of blobs kept remotely: libav seeks in files, not in HTTP bodies,
//! so a remote store hands the engine a local copy.
//!
//! Blobs are immutable under their keys (originals carry their version id, derived files the
//! digest of what made them), so a cached copy never goes stale. Copies are filled under a
//! temporary name and renamed, so a half-downloaded file is never seen. Past the size bound
//! the least recently used copies go, but never one used in the last minute: a path just
//! handed to the engine stays until it has been opened (an open file outlives its unlink).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncRead, AsyncWriteExt};

use super::{StoreError, safe_relative};

/// Copies used more recently than this are never evicted.
const IN_USE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct LocalCache {
    dir: PathBuf,
    max_bytes: u64,
}

impl LocalCache {
    /// Opens `dir`, removing half-filled copies a crash left.
    pub fn open(dir: PathBuf, max_bytes: u64) -> std::io::Result<LocalCache> {
        std::fs::create_dir_all(&dir)?;
        remove_partial(&dir);
        Ok(LocalCache { dir, max_bytes })
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        Ok(self.dir.join(safe_relative(key)?))
    }

    /// The cached copy of `key`, marked as just used.
    pub async fn get(&self, key: &str) -> Option<PathBuf> {
        let path = self.path_of(key).ok()?;
        let touched = path.clone();
        let found = tokio::task::spawn_blocking(move || touch(&touched))
            .await
            .is_ok_and(|r| r.is_ok());
        found.then_some(path)
    }

    /// Takes `file` (on the same filesystem) as the copy of `key`.
    pub async fn adopt(&self, key: &str, file: &Path) -> Result<PathBuf, StoreError> {
        let path = self.path_of(key)?;
        let io = |source| StoreError::Commit {
            key: key.into(),
            source,
        };
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        tokio::fs::rename(file, &path).await.map_err(io)?;
        self.evict().await;
        Ok(path)
    }

    /// Writes what `reader` yields as the copy of `key`.
    pub async fn fill(
        &self,
        key: &str,
        mut reader: impl AsyncRead + Unpin,
    ) -> Result<PathBuf, StoreError> {
        let path = self.path_of(key)?;
        let io = |source| StoreError::Read {
            key: key.into(),
            source,
        };
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        let partial = path.with_extension(format!("{:08x}.part", rand::random::<u32>()));
        let copied = async {
            let mut out = tokio::fs::File::create(&partial).await?;
            tokio::io::copy(&mut reader, &mut out).await?;
            out.flush().await?;
            tokio::fs::rename(&partial, &path).await
        }
        .await;
        if let Err(e) = copied {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(io(e));
        }
        self.evict().await;
        Ok(path)
    }

    pub async fn remove(&self, key: &str) {
        if let Ok(path) = self.path_of(key) {
            let _ = tokio::fs::remove_file(path).await;
        }
    }

    /// Deletes least recently used copies until the cache fits its bound.
    async fn evict(&self) {
        let dir = self.dir.clone();
        let max = self.max_bytes;
        let _ = tokio::task::spawn_blocking(move || evict_dir(&dir, max)).await;
    }
}

fn touch(path: &Path) -> std::io::Result<()> {
    std::fs::File::options()
        .write(true)
        .open(path)?
        .set_modified(SystemTime::now())
}

fn files_under(dir: &Path, out: &mut Vec<(PathBuf, u64, SystemTime)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            files_under(&entry.path(), out);
        } else {
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            out.push((entry.path(), meta.len(), used));
        }
    }
}

fn evict_dir(dir: &Path, max_bytes: u64) {
    let mut files = Vec::new();
    files_under(dir, &mut files);
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    if total <= max_bytes {
        return;
    }
    files.sort_by_key(|f| f.2);
    let now = SystemTime::now();
    for (path, len, used) in files {
        if total <= max_bytes {
            break;
        }
        let recent = now.duration_since(used).map_or(true, |age| age < IN_USE);
        if recent || path.extension().is_some_and(|e| e == "part") {
            continue;
        }
        if std::fs::remove_file(&path).is_ok() {
            total = total.saturating_sub(len);
        }
    }
}

fn remove_partial(dir: &Path) {
    let mut files = Vec::new();
    files_under(dir, &mut files);
    for (path, _, _) in files {
        if path.extension().is_some_and(|e| e == "part") {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn copies_are_filled_whole_and_the_oldest_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LocalCache::open(dir.path().join("cache"), 10).unwrap();
        let a = cache.fill("x/a", &b"123456"[..]).await.unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"123456");
        // Make `a` old enough to be evicted, then go past the bound.
        std::fs::File::options()
            .write(true)
            .open(&a)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
        cache.fill("x/b", &b"123456"[..]).await.unwrap();
        assert!(
            cache.get("x/a").await.is_none(),
            "the oldest copy was evicted"
        );
        assert!(cache.get("x/b").await.is_some(), "a copy in use stays");
        assert!(matches!(
            cache.fill("../escape", &b""[..]).await,
            Err(StoreError::BadKey(_))
        ));
    }
}
