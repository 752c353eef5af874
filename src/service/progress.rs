//! How far a background job has got, read from what is stored rather than reported by the job:
//! an eager job is as far along as the share of its outputs that have derived rows, and a
//! streaming eager (a whole ladder) counts each initialization segment and segment. So the
//! figure is the same whichever node runs the job, and survives a restart.

use super::eager::{EAGER, EagerJob};
use super::transform::Client;
use super::{Kino, ServiceError};
use crate::catalog::JobRow;
use crate::url::{DeliveryType, ResourceType};

/// A job as the API shows it.
#[derive(Debug, Clone)]
pub struct JobView {
    pub row: JobRow,
    /// From 0 to 1.
    pub progress: f64,
    /// For eager jobs: the asset and the batch id the upload answered with.
    pub public_id: Option<String>,
    pub batch_id: Option<String>,
}

impl Kino {
    /// The latest `limit` jobs of `cloud`, newest first.
    pub async fn jobs(&self, cloud: &str, limit: i64) -> Result<Vec<JobView>, ServiceError> {
        let mut views = Vec::new();
        for row in self.catalog.list_jobs(cloud, limit).await? {
            views.push(self.job_view(row).await?);
        }
        Ok(views)
    }

    /// One job (an eager job's id is its batch id).
    pub async fn job(&self, cloud: &str, id: &str) -> Result<JobView, ServiceError> {
        let row = self
            .catalog
            .find_job(cloud, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("Job not found - {id}")))?;
        self.job_view(row).await
    }

    async fn job_view(&self, row: JobRow) -> Result<JobView, ServiceError> {
        let eager = (row.kind == EAGER)
            .then(|| serde_json::from_str::<EagerJob>(&row.payload).ok())
            .flatten();
        let progress = match (&eager, row.state.as_str()) {
            (_, "done") => 1.0,
            (Some(job), _) => self.eager_progress(job).await?,
            (None, _) => 0.0,
        };
        Ok(JobView {
            progress,
            public_id: eager.as_ref().map(|j| j.public_id.clone()),
            batch_id: eager.as_ref().map(|j| j.batch_id.clone()),
            row,
        })
    }

    /// The share of an eager job's outputs that are stored.
    async fn eager_progress(&self, job: &EagerJob) -> Result<f64, ServiceError> {
        let (Some(rt), Some(dt)) = (
            ResourceType::parse(&job.resource_type),
            DeliveryType::parse(&job.delivery_type),
        ) else {
            return Ok(0.0);
        };
        let Some(asset) = self
            .catalog
            .find_asset(&job.cloud, rt, dt, &job.public_id)
            .await?
            .filter(|a| a.asset_id == job.asset_id)
        else {
            return Ok(0.0);
        };
        let mut done = 0.0;
        for item in &job.items {
            let Some(eager) = crate::url::parse_eager(&item.eager)
                .ok()
                .and_then(|l| l.into_iter().next())
            else {
                continue;
            };
            let (path, streaming) = super::eager::eager_path(&asset, &eager);
            done += if streaming {
                let stream = self.stream_of(&path, &asset).await?;
                self.ladder_progress(&asset, &stream).await?
            } else {
                let (_, _, id) = self.target(&path, &asset, Client::default()).await?;
                if self.catalog.find_derived(&id).await?.is_some() {
                    1.0
                } else {
                    0.0
                }
            };
        }
        Ok(if job.items.is_empty() {
            1.0
        } else {
            done / job.items.len() as f64
        })
    }
}
