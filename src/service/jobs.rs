//! The background job queue: eager transformations (`eager_async`) and webhook notifications.
//!
//! Jobs are catalog rows, so they survive a restart. [`run`] claims due jobs with a lease it
//! renews while a job runs; a process that dies mid-job leaves a lease that runs out, and the
//! job is claimed again (its finished parts are cached derived files, so it resumes). A job
//! that fails is retried with a doubling delay; after `jobs.max_attempts` it is kept as
//! `failed` with its error and logged — never dropped silently. Enqueueing wakes the runner;
//! it also polls once a second for retries that came due.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::eager::{EAGER, EagerJob};
use super::notify::Notification;
use super::{Kino, ServiceError};
use crate::catalog::{ClaimedJob, NewJob};

/// The job kind of a [`Notification`].
pub const NOTIFY: &str = "notify";

/// How a job attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFailure {
    /// Worth another try later (a receiver that did not answer, a busy engine).
    Retry(String),
    /// Will never work (a deleted asset, an unusable URL): given up at once.
    GiveUp(String),
}

/// The queue's settings and the signal that wakes its runner.
#[derive(Debug, Clone)]
pub struct JobQueue {
    pub settings: crate::config::Jobs,
    wake: Arc<Notify>,
}

impl JobQueue {
    pub fn new(settings: crate::config::Jobs) -> JobQueue {
        JobQueue {
            settings,
            wake: Arc::new(Notify::new()),
        }
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A new job id: 64 hex digits (also the `batch_id` of eager jobs).
pub fn new_id() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

impl Kino {
    /// Queues a job of `kind` with `payload`, to run after `delay_ms`.
    pub async fn enqueue(
        &self,
        cloud: &str,
        kind: &str,
        id: &str,
        payload: &impl Serialize,
        delay_ms: i64,
    ) -> Result<(), ServiceError> {
        let payload = serde_json::to_string(payload).map_err(|e| ServiceError::Failed {
            kind: crate::error::ErrorKind::Internal,
            message: format!("encoding a job: {e}"),
        })?;
        let now = now_ms();
        let job = NewJob {
            id: id.to_string(),
            cloud: cloud.to_string(),
            kind: kind.to_string(),
            payload,
            run_after: now + delay_ms,
        };
        self.catalog.enqueue_job(&job, now).await?;
        self.jobs.wake.notify_one();
        Ok(())
    }

    /// Queues a notification of `body` to `url`.
    pub async fn notify(
        &self,
        cloud: &str,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<(), ServiceError> {
        let job = self.notification_job(cloud, url, body);
        self.catalog.enqueue_job(&job, now_ms()).await?;
        self.jobs.wake.notify_one();
        Ok(())
    }

    /// Runs one claimed job to its outcome in the catalog.
    async fn run_job(&self, job: ClaimedJob) {
        let outcome = match job.kind.as_str() {
            EAGER => match serde_json::from_str::<EagerJob>(&job.payload) {
                Ok(eager) => self.run_eager(&eager).await,
                Err(e) => Err(JobFailure::GiveUp(format!("unreadable job: {e}"))),
            },
            NOTIFY => match serde_json::from_str::<Notification>(&job.payload) {
                Ok(n) => self.deliver(&job.cloud, &n).await.map(|()| Vec::new()),
                Err(e) => Err(JobFailure::GiveUp(format!("unreadable job: {e}"))),
            },
            other => Err(JobFailure::GiveUp(format!("unknown job kind {other}"))),
        };
        let now = now_ms();
        let saved = match outcome {
            Ok(then) => {
                tracing::info!(id = job.id, kind = job.kind, "job done");
                let saved = self.catalog.finish_job(&job.id, &then, now).await;
                if !then.is_empty() {
                    self.jobs.wake.notify_one();
                }
                saved
            }
            Err(JobFailure::Retry(why))
                if job.attempts < i64::try_from(self.jobs.settings.max_attempts).unwrap_or(1) =>
            {
                let delay = self.retry_delay_ms(job.attempts);
                tracing::warn!(
                    id = job.id,
                    kind = job.kind,
                    attempt = job.attempts,
                    error = why,
                    retry_in_ms = delay,
                    "job failed; it will be retried"
                );
                self.catalog
                    .retry_job(&job.id, now + delay, &why, now)
                    .await
            }
            Err(JobFailure::Retry(why) | JobFailure::GiveUp(why)) => {
                tracing::error!(
                    id = job.id,
                    kind = job.kind,
                    attempts = job.attempts,
                    error = why,
                    "job given up"
                );
                self.catalog.fail_job(&job.id, &why, now).await
            }
        };
        if let Err(e) = saved {
            // The lease runs out and the job is taken again.
            tracing::warn!(error = %e, id = job.id, "could not record a job's outcome");
        }
    }

    /// `retry_secs`, doubled for each attempt after the first (at most a day).
    fn retry_delay_ms(&self, attempts: i64) -> i64 {
        let base = i64::try_from(self.jobs.settings.retry_secs).unwrap_or(30) * 1000;
        let doublings = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(16);
        base.saturating_mul(1 << doublings).min(86_400_000)
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.jobs.settings.lease_secs).unwrap_or(60) * 1000
    }
}

/// Claims and runs jobs until `stop` resolves; at most `jobs.workers` at once. Jobs still
/// running at the stop are abandoned: their leases run out and they are claimed again.
pub async fn run(kino: Kino, stop: impl std::future::Future<Output = ()>) {
    let workers = usize::try_from(kino.jobs.settings.workers)
        .unwrap_or(1)
        .max(1);
    let mut running = JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        while running.len() < workers {
            let now = now_ms();
            match kino
                .catalog
                .claim_job(&kino.node, now, now + kino.lease_ms())
                .await
            {
                Ok(Some(job)) => {
                    let kino = kino.clone();
                    running.spawn(async move { kino.with_heartbeat(job).await });
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim a job");
                    break;
                }
            }
        }
        tokio::select! {
            () = &mut stop => break,
            () = kino.jobs.wake.notified() => {}
            _ = running.join_next(), if !running.is_empty() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    running.abort_all();
}

impl Kino {
    /// Runs a job while renewing its lease every third of it.
    async fn with_heartbeat(&self, job: ClaimedJob) {
        let id = job.id.clone();
        let lease = self.lease_ms();
        let beat = async {
            let period = Duration::from_millis(u64::try_from(lease / 3).unwrap_or(1000).max(100));
            loop {
                tokio::time::sleep(period).await;
                if let Err(e) = self.catalog.renew_job(&id, now_ms() + lease).await {
                    tracing::warn!(error = %e, id, "could not renew a job's lease");
                }
            }
        };
        tokio::select! {
            () = self.run_job(job) => {}
            () = beat => {}
        }
    }
}
