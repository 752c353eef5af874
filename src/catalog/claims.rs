//! Claims on derived files being made: how nodes that share the catalog make each derived file
//! once. A claim is a row naming the node and its last heartbeat; a claim whose heartbeat is
//! older than the caller's `stale_before` was left by a node that died, and is taken over.

use sqlx::Row;

use super::{Catalog, CatalogError};

impl Catalog {
    /// Claims derived file `id` for `node`: true when the claim is `node`'s (new, already its
    /// own, or taken over from a stale claimer), false while another node holds it.
    pub async fn claim_derived(
        &self,
        id: &str,
        node: &str,
        now_ms: i64,
        stale_before_ms: i64,
    ) -> Result<bool, CatalogError> {
        let row = sqlx::query(
            "INSERT INTO derived_claims (id, node, heartbeat) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET node = excluded.node, heartbeat = excluded.heartbeat \
             WHERE derived_claims.node = excluded.node OR derived_claims.heartbeat < $4 \
             RETURNING node",
        )
        .bind(id)
        .bind(node)
        .bind(now_ms)
        .bind(stale_before_ms)
        .fetch_optional(&self.write)
        .await
        .map_err(CatalogError::query("claim derived"))?;
        match row {
            Some(r) => Ok(r
                .try_get::<String, _>("node")
                .map_err(CatalogError::query("claim node"))?
                == node),
            None => Ok(false),
        }
    }

    /// Renews `node`'s claim on `id`.
    pub async fn renew_derived_claim(
        &self,
        id: &str,
        node: &str,
        now_ms: i64,
    ) -> Result<(), CatalogError> {
        sqlx::query("UPDATE derived_claims SET heartbeat = $1 WHERE id = $2 AND node = $3")
            .bind(now_ms)
            .bind(id)
            .bind(node)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("renew derived claim"))?;
        Ok(())
    }

    /// Gives up every claim of `node` (it starts again: whatever it was making is not).
    pub async fn release_node_claims(&self, node: &str) -> Result<u64, CatalogError> {
        let done = sqlx::query("DELETE FROM derived_claims WHERE node = $1")
            .bind(node)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("release node claims"))?;
        Ok(done.rows_affected())
    }

    /// Gives up `node`'s claim on `id` (the file is made, or making it failed).
    pub async fn release_derived_claim(&self, id: &str, node: &str) -> Result<(), CatalogError> {
        sqlx::query("DELETE FROM derived_claims WHERE id = $1 AND node = $2")
            .bind(id)
            .bind(node)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("release derived claim"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_node_holds_a_claim_until_it_is_released_or_goes_stale() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("kino.db").display());
        let catalog = Catalog::open(&url).await.unwrap();
        assert!(catalog.claim_derived("d1", "a", 1_000, 0).await.unwrap());
        assert!(
            catalog.claim_derived("d1", "a", 1_100, 0).await.unwrap(),
            "its own"
        );
        assert!(!catalog.claim_derived("d1", "b", 1_200, 0).await.unwrap());
        catalog.renew_derived_claim("d1", "a", 5_000).await.unwrap();
        assert!(
            !catalog
                .claim_derived("d1", "b", 9_000, 4_000)
                .await
                .unwrap(),
            "a renewed claim is not stale"
        );
        assert!(
            catalog
                .claim_derived("d1", "b", 20_000, 10_000)
                .await
                .unwrap(),
            "a stale claim is taken over"
        );
        catalog.release_derived_claim("d1", "a").await.unwrap();
        assert!(
            !catalog.claim_derived("d1", "a", 20_100, 0).await.unwrap(),
            "b kept it"
        );
        catalog.release_derived_claim("d1", "b").await.unwrap();
        assert!(catalog.claim_derived("d1", "a", 20_200, 0).await.unwrap());
    }
}
