//! Making a derived file once across nodes: before a node starts the engine on an output no
//! one has stored yet, it claims the output in the shared catalog. Nodes that find it claimed
//! wait for its row (polling; a row appears when the claimer has stored the file) instead of
//! making it again. The claimer renews the claim while it works; a node that dies stops
//! renewing, and after [`STALE`] its claim is taken over. Within one node, flights already
//! share work (`derived::Cache`); claims are only about other nodes.

use std::time::Duration;

use super::{Kino, ServiceError, jobs::now_ms};
use crate::catalog::{Catalog, Derived};

/// How often a claimer renews its claim.
const HEARTBEAT: Duration = Duration::from_secs(3);
/// A claim not renewed for this long is a dead node's.
const STALE: Duration = Duration::from_secs(15);
/// How often a waiting node looks for the row.
const POLL: Duration = Duration::from_millis(200);

/// This node's claim on a derived file; released when dropped.
#[derive(Debug)]
pub(super) struct Claim {
    catalog: Catalog,
    node: String,
    id: String,
}

/// What claiming found.
#[derive(Debug)]
pub(super) enum Claimed {
    /// This node makes the file.
    Mine(Claim),
    /// Another node made it while this one waited.
    Made(Derived),
}

impl Kino {
    /// Claims derived file `id`, or waits until the node that holds the claim has made it.
    pub(super) async fn claim_or_wait(&self, id: &str) -> Result<Claimed, ServiceError> {
        let stale = i64::try_from(STALE.as_millis()).unwrap_or(i64::MAX);
        loop {
            let now = now_ms();
            if self
                .catalog
                .claim_derived(id, &self.node, now, now - stale)
                .await?
            {
                let claim = Claim {
                    catalog: self.catalog.clone(),
                    node: self.node.clone(),
                    id: id.to_string(),
                };
                // It may have been stored between the caller's look and this claim.
                return Ok(match self.catalog.find_derived(id).await? {
                    Some(found) => Claimed::Made(found),
                    None => Claimed::Mine(claim),
                });
            }
            tokio::time::sleep(POLL).await;
            if let Some(found) = self.catalog.find_derived(id).await? {
                return Ok(Claimed::Made(found));
            }
        }
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
        let (id, node) = (std::mem::take(&mut self.id), std::mem::take(&mut self.node));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = catalog.release_derived_claim(&id, &node).await {
                    // It goes stale and is taken over.
                    tracing::warn!(error = %e, id, "a derived claim was not released");
                }
            });
        }
    }
}
