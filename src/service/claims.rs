//! Making a derived file once across nodes: before a node starts the engine on an output no
//! one has stored yet, it claims the output in the shared catalog. Nodes that find it claimed
//! wait for its row (polling; a row appears when the claimer has stored the file) instead of
//! making it again. The claimer renews the claim while it works; a node that dies stops
//! renewing, and after [`STALE`] its claim is taken over.
//!
//! Within a node, one request at a time holds the claim (`derived::Cache::hold_claim`); the
//! others wait for its flight, which they then follow as before.

use std::sync::Arc;
use std::time::Duration;

use super::{Kino, ServiceError, jobs::now_ms};
use crate::catalog::{Catalog, Derived};
use crate::derived::{Cache, Flight};

/// How often a claimer renews its claim.
const HEARTBEAT: Duration = Duration::from_secs(3);
/// A claim not renewed for this long is a dead node's.
const STALE: Duration = Duration::from_secs(15);
/// How often a waiting request looks for the row (or for this node's flight).
const POLL: Duration = Duration::from_millis(200);

/// This node's claim on a derived file; released when dropped.
#[derive(Debug)]
pub(super) struct Claim {
    catalog: Catalog,
    held: Cache,
    node: String,
    id: String,
}

/// What claiming found.
#[derive(Debug)]
pub(super) enum Claimed {
    /// This request makes the file.
    Mine(Claim),
    /// Another request of this node makes it: follow its flight.
    Running(Arc<Flight>),
    /// It was made while this request waited.
    Made(Derived),
}

impl Kino {
    /// Claims derived file `id`, or waits until whoever holds the claim has made it (or has
    /// started its flight, on this node).
    pub(super) async fn claim_or_wait(&self, id: &str) -> Result<Claimed, ServiceError> {
        let stale = i64::try_from(STALE.as_millis()).unwrap_or(i64::MAX);
        loop {
            if self.derived.hold_claim(id) {
                let now = now_ms();
                let claimed = self
                    .catalog
                    .claim_derived(id, &self.node, now, now - stale)
                    .await;
                match claimed {
                    Ok(true) => return self.claimed(id).await,
                    Ok(false) => self.derived.drop_claim(id),
                    Err(e) => {
                        self.derived.drop_claim(id);
                        return Err(e.into());
                    }
                }
            }
            tokio::time::sleep(POLL).await;
            if let Some(flight) = self.derived.running(id) {
                return Ok(Claimed::Running(flight));
            }
            if let Some(found) = self.catalog.find_derived(id).await? {
                return Ok(Claimed::Made(found));
            }
        }
    }

    async fn claimed(&self, id: &str) -> Result<Claimed, ServiceError> {
        let claim = Claim {
            catalog: self.catalog.clone(),
            held: self.derived.clone(),
            node: self.node.clone(),
            id: id.to_string(),
        };
        // It may have been stored between the caller's look and this claim.
        Ok(match self.catalog.find_derived(id).await? {
            Some(found) => Claimed::Made(found),
            None => Claimed::Mine(claim),
        })
    }
}

impl Claim {
    /// Renews the claim for as long as it is polled (run it beside the work).
    pub(super) async fn keep_alive(&self) -> std::convert::Infallible {
        loop {
            tokio::time::sleep(HEARTBEAT).await;
            if let Err(e) = self
                .catalog
                .renew_derived_claim(&self.id, &self.node, now_ms())
                .await
            {
                tracing::warn!(error = %e, id = self.id, "a derived claim was not renewed");
            }
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let catalog = self.catalog.clone();
        let held = self.held.clone();
        let (id, node) = (std::mem::take(&mut self.id), std::mem::take(&mut self.node));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            held.drop_claim(&id);
            return;
        };
        runtime.spawn(async move {
            if let Err(e) = catalog.release_derived_claim(&id, &node).await {
                // It goes stale and is taken over.
                tracing::warn!(error = %e, id, "a derived claim was not released");
            }
            // Only now may another request of this node claim it again.
            held.drop_claim(&id);
        });
    }
}
