//! The job queue's rows: enqueue, claim with a lease, renew, finish (possibly enqueueing what
//! follows in the same commit), retry later, or give up.
//!
//! Claiming is one `UPDATE … WHERE id = (SELECT … LIMIT 1 [FOR UPDATE SKIP LOCKED]) RETURNING`,
//! so two claimers (threads or nodes) never get the same job, and a job whose claimer died
//! (its lease ran out) is claimed again.

use sqlx::Row;

use super::{Backend, Catalog, CatalogError};

/// A job to add to the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub id: String,
    pub cloud: String,
    /// What the payload means (`eager`, `notify`).
    pub kind: String,
    /// JSON.
    pub payload: String,
    /// Unix milliseconds before which the job is not run.
    pub run_after: i64,
}

/// A claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: String,
    pub cloud: String,
    pub kind: String,
    pub payload: String,
    /// Including this one.
    pub attempts: i64,
}

/// A job as stored, for inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// What the job does (JSON, by kind).
    pub payload: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

const JOB_COLUMNS: &str = "id, kind, state, attempts, last_error, payload, created_at, updated_at";

fn job_from_row(row: &sqlx::any::AnyRow) -> Result<JobRow, CatalogError> {
    let corrupt = |e: sqlx::Error| CatalogError::Corrupt(format!("job: {e}"));
    Ok(JobRow {
        id: row.try_get("id").map_err(corrupt)?,
        kind: row.try_get("kind").map_err(corrupt)?,
        state: row.try_get("state").map_err(corrupt)?,
        attempts: row.try_get("attempts").map_err(corrupt)?,
        last_error: row.try_get("last_error").map_err(corrupt)?,
        payload: row.try_get("payload").map_err(corrupt)?,
        created_at: row.try_get("created_at").map_err(corrupt)?,
        updated_at: row.try_get("updated_at").map_err(corrupt)?,
    })
}

async fn insert(tx: &mut sqlx::AnyConnection, job: &NewJob, now: i64) -> Result<(), CatalogError> {
    sqlx::query(
        "INSERT INTO jobs (id, cloud, kind, payload, state, attempts, run_after, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7)",
    )
    .bind(&job.id)
    .bind(&job.cloud)
    .bind(&job.kind)
    .bind(&job.payload)
    .bind(job.run_after)
    .bind(now)
    .bind(now)
    .execute(tx)
    .await
    .map_err(CatalogError::query("enqueue job"))?;
    Ok(())
}

impl Catalog {
    pub async fn enqueue_job(&self, job: &NewJob, now: i64) -> Result<(), CatalogError> {
        let mut conn = self
            .write
            .acquire()
            .await
            .map_err(CatalogError::query("enqueue job"))?;
        insert(&mut conn, job, now).await
    }

    /// Takes the job that has waited longest among those due (or whose claimer's lease ran
    /// out) for `node`, leasing it until `lease_until`.
    pub async fn claim_job(
        &self,
        node: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<ClaimedJob>, CatalogError> {
        // SQLite has one writer, so the subquery and the update cannot interleave. On
        // PostgreSQL several nodes claim at once: the row is locked by the subquery, and rows
        // other claimers hold are skipped rather than waited for.
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1, updated_at = $2, \
                             claimed_by = $5 \
             WHERE id = (SELECT id FROM jobs \
                         WHERE (state = 'queued' AND run_after <= $3) \
                            OR (state = 'running' AND lease_until < $4) \
                         ORDER BY run_after, created_at LIMIT 1{lock}) \
             RETURNING id, cloud, kind, payload, attempts"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(lease_until)
            .bind(now)
            .bind(now)
            .bind(now)
            .bind(node)
            .fetch_optional(&self.write)
            .await
            .map_err(CatalogError::query("claim job"))?;
        let Some(row) = row else { return Ok(None) };
        let get = |c: &str| {
            row.try_get::<String, _>(c)
                .map_err(|e| CatalogError::Corrupt(format!("job {c}: {e}")))
        };
        Ok(Some(ClaimedJob {
            id: get("id")?,
            cloud: get("cloud")?,
            kind: get("kind")?,
            payload: get("payload")?,
            attempts: row
                .try_get("attempts")
                .map_err(|e| CatalogError::Corrupt(format!("job attempts: {e}")))?,
        }))
    }

    /// Hands back the jobs `node` was running when it stopped (or died): they are due again
    /// now, their attempt already counted.
    pub async fn release_node_jobs(&self, node: &str, now: i64) -> Result<u64, CatalogError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'queued', run_after = $1, lease_until = NULL, claimed_by = NULL, \
             updated_at = $1 WHERE state = 'running' AND claimed_by = $2",
        )
        .bind(now)
        .bind(node)
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("release node jobs"))?;
        Ok(done.rows_affected())
    }

    /// Extends the lease of a job still running.
    pub async fn renew_job(&self, id: &str, lease_until: i64) -> Result<(), CatalogError> {
        sqlx::query("UPDATE jobs SET lease_until = $1 WHERE id = $2 AND state = 'running'")
            .bind(lease_until)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("renew job"))?;
        Ok(())
    }

    /// Marks a job done and enqueues the jobs that follow from it, in one commit.
    pub async fn finish_job(
        &self,
        id: &str,
        then: &[NewJob],
        now: i64,
    ) -> Result<(), CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin finish job"))?;
        sqlx::query(
            "UPDATE jobs SET state = 'done', lease_until = NULL, last_error = NULL, updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(CatalogError::query("finish job"))?;
        for job in then {
            insert(&mut tx, job, now).await?;
        }
        tx.commit()
            .await
            .map_err(CatalogError::query("commit finish job"))?;
        Ok(())
    }

    /// Puts a job back in the queue until `run_after`, remembering why it failed.
    pub async fn retry_job(
        &self,
        id: &str,
        run_after: i64,
        error: &str,
        now: i64,
    ) -> Result<(), CatalogError> {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', run_after = $1, lease_until = NULL, last_error = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(run_after)
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("retry job"))?;
        Ok(())
    }

    /// Gives a job up: it stays in the table as `failed`, with its error.
    pub async fn fail_job(&self, id: &str, error: &str, now: i64) -> Result<(), CatalogError> {
        sqlx::query(
            "UPDATE jobs SET state = 'failed', lease_until = NULL, last_error = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("fail job"))?;
        Ok(())
    }

    /// Jobs of a cloud, newest first (at most `limit`).
    pub async fn list_jobs(&self, cloud: &str, limit: i64) -> Result<Vec<JobRow>, CatalogError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE cloud = $1 ORDER BY created_at DESC, id LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cloud)
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(CatalogError::query("list jobs"))?;
        rows.iter().map(job_from_row).collect()
    }

    /// One job of a cloud.
    pub async fn find_job(&self, cloud: &str, id: &str) -> Result<Option<JobRow>, CatalogError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE cloud = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cloud)
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(CatalogError::query("find job"))?;
        row.as_ref().map(job_from_row).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn catalog() -> (tempfile::TempDir, Catalog) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/kino.db", dir.path().display());
        let catalog = Catalog::open(&url).await.unwrap();
        (dir, catalog)
    }

    fn job(id: &str, run_after: i64) -> NewJob {
        NewJob {
            id: id.into(),
            cloud: "demo".into(),
            kind: "notify".into(),
            payload: "{}".into(),
            run_after,
        }
    }

    #[tokio::test]
    async fn a_job_is_claimed_once_until_its_lease_runs_out() {
        let (_dir, c) = catalog().await;
        c.enqueue_job(&job("a", 100), 100).await.unwrap();
        assert_eq!(
            c.claim_job("n", 99, 200).await.unwrap(),
            None,
            "not due yet"
        );
        let first = c.claim_job("n", 100, 200).await.unwrap().unwrap();
        assert_eq!((first.id.as_str(), first.attempts), ("a", 1));
        assert_eq!(c.claim_job("n", 150, 250).await.unwrap(), None, "leased");
        // The claimer died: after the lease the job is taken again.
        let again = c.claim_job("n", 201, 300).await.unwrap().unwrap();
        assert_eq!(again.attempts, 2);
        c.renew_job("a", 1000).await.unwrap();
        assert_eq!(c.claim_job("n", 500, 600).await.unwrap(), None, "renewed");
    }

    #[tokio::test]
    async fn a_restarted_node_hands_back_only_its_own_jobs() {
        let (_dir, c) = catalog().await;
        c.enqueue_job(&job("a", 0), 0).await.unwrap();
        c.enqueue_job(&job("b", 0), 0).await.unwrap();
        let a = c.claim_job("n", 0, 1_000_000).await.unwrap().unwrap();
        c.claim_job("other", 0, 1_000_000).await.unwrap().unwrap();
        assert_eq!(c.release_node_jobs("n", 10).await.unwrap(), 1);
        // Due at once, long before the lease would have run out; the other node's job stays.
        let again = c.claim_job("n2", 10, 20).await.unwrap().unwrap();
        assert_eq!((again.id, again.attempts), (a.id, 2));
        assert_eq!(c.claim_job("n2", 10, 20).await.unwrap(), None);
    }

    #[tokio::test]
    async fn finishing_enqueues_what_follows_and_failures_stay_visible() {
        let (_dir, c) = catalog().await;
        c.enqueue_job(&job("a", 0), 0).await.unwrap();
        c.claim_job("n", 0, 10).await.unwrap().unwrap();
        c.finish_job("a", &[job("b", 0)], 1).await.unwrap();
        let b = c.claim_job("n", 1, 10).await.unwrap().unwrap();
        assert_eq!(b.id, "b");
        c.retry_job("b", 50, "HTTP 500", 2).await.unwrap();
        assert_eq!(c.claim_job("n", 49, 60).await.unwrap(), None);
        assert_eq!(c.claim_job("n", 50, 60).await.unwrap().unwrap().attempts, 2);
        c.fail_job("b", "gave up", 51).await.unwrap();
        assert_eq!(c.claim_job("n", 10_000, 20_000).await.unwrap(), None);
        let rows = c.list_jobs("demo", 10).await.unwrap();
        let b = rows.iter().find(|r| r.id == "b").unwrap();
        assert_eq!(
            (b.state.as_str(), b.last_error.as_deref()),
            ("failed", Some("gave up"))
        );
        let a = rows.iter().find(|r| r.id == "a").unwrap();
        assert_eq!(a.state, "done");
    }
}
