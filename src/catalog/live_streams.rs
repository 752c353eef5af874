//! Live stream rows and their outputs (HLS playback, archive).

use sqlx::FromRow;

use super::{Catalog, CatalogError};

/// A live stream as stored: its key and settings (sessions are not rows).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LiveStream {
    pub id: String,
    pub cloud: String,
    pub name: Option<String>,
    pub stream_key: String,
    pub status: String,
    pub idle_timeout_sec: i64,
    pub max_runtime_sec: i64,
    pub streaming_profile: String,
    pub notification_url: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One output of a stream.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LiveOutput {
    pub id: String,
    pub stream_id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub uri: Option<String>,
    pub stream_key: Option<String>,
    pub vendor: Option<String>,
    pub public_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns of `live_streams`, in the order of [`LiveStream`]'s fields.
macro_rules! stream_columns {
    () => {
        "id, cloud, name, stream_key, status, idle_timeout_sec, max_runtime_sec, \
         streaming_profile, notification_url, created_at, updated_at"
    };
}

/// The columns of `live_stream_outputs`.
macro_rules! output_columns {
    () => {
        "id, stream_id, type, name, uri, stream_key, vendor, public_id, created_at, updated_at"
    };
}

impl Catalog {
    /// Stores a new stream with its first outputs, in one transaction.
    pub async fn create_live_stream(
        &self,
        stream: &LiveStream,
        outputs: &[LiveOutput],
    ) -> Result<(), CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin live stream"))?;
        sqlx::query(concat!(
            "INSERT INTO live_streams (",
            stream_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&stream.id)
        .bind(&stream.cloud)
        .bind(&stream.name)
        .bind(&stream.stream_key)
        .bind(&stream.status)
        .bind(stream.idle_timeout_sec)
        .bind(stream.max_runtime_sec)
        .bind(&stream.streaming_profile)
        .bind(&stream.notification_url)
        .bind(stream.created_at)
        .bind(stream.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(CatalogError::query("insert live stream"))?;
        for output in outputs {
            insert_output(&mut tx, output).await?;
        }
        tx.commit()
            .await
            .map_err(CatalogError::query("commit live stream"))?;
        Ok(())
    }

    pub async fn list_live_streams(&self, cloud: &str) -> Result<Vec<LiveStream>, CatalogError> {
        sqlx::query_as::<_, LiveStream>(concat!(
            "SELECT ",
            stream_columns!(),
            " FROM live_streams WHERE cloud = $1 ORDER BY created_at, id"
        ))
        .bind(cloud)
        .fetch_all(&self.read)
        .await
        .map_err(CatalogError::query("list live streams"))
    }

    pub async fn find_live_stream(
        &self,
        cloud: &str,
        id: &str,
    ) -> Result<Option<LiveStream>, CatalogError> {
        sqlx::query_as::<_, LiveStream>(concat!(
            "SELECT ",
            stream_columns!(),
            " FROM live_streams WHERE cloud = $1 AND id = $2"
        ))
        .bind(cloud)
        .bind(id)
        .fetch_optional(&self.read)
        .await
        .map_err(CatalogError::query("find live stream"))
    }

    /// The stream with id `id` in any cloud (ids are unique across clouds).
    pub async fn find_live_stream_by_id(
        &self,
        id: &str,
    ) -> Result<Option<LiveStream>, CatalogError> {
        sqlx::query_as::<_, LiveStream>(concat!(
            "SELECT ",
            stream_columns!(),
            " FROM live_streams WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await
        .map_err(CatalogError::query("find live stream by id"))
    }

    pub async fn find_live_stream_by_key(
        &self,
        stream_key: &str,
    ) -> Result<Option<LiveStream>, CatalogError> {
        sqlx::query_as::<_, LiveStream>(concat!(
            "SELECT ",
            stream_columns!(),
            " FROM live_streams WHERE stream_key = $1"
        ))
        .bind(stream_key)
        .fetch_optional(&self.read)
        .await
        .map_err(CatalogError::query("find live stream by key"))
    }

    /// Saves a stream's changeable fields (name, timeouts, profile, webhook, status).
    pub async fn update_live_stream(&self, stream: &LiveStream) -> Result<(), CatalogError> {
        sqlx::query(
            "UPDATE live_streams SET name = $1, status = $2, idle_timeout_sec = $3, \
             max_runtime_sec = $4, streaming_profile = $5, notification_url = $6, updated_at = $7 \
             WHERE cloud = $8 AND id = $9",
        )
        .bind(&stream.name)
        .bind(&stream.status)
        .bind(stream.idle_timeout_sec)
        .bind(stream.max_runtime_sec)
        .bind(&stream.streaming_profile)
        .bind(&stream.notification_url)
        .bind(stream.updated_at)
        .bind(&stream.cloud)
        .bind(&stream.id)
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("update live stream"))?;
        Ok(())
    }

    pub async fn set_live_stream_status(
        &self,
        id: &str,
        status: &str,
        now_ms: i64,
    ) -> Result<(), CatalogError> {
        sqlx::query("UPDATE live_streams SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now_ms)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("set live stream status"))?;
        Ok(())
    }

    /// Deletes a stream and its outputs; false when there was none.
    pub async fn delete_live_stream(&self, cloud: &str, id: &str) -> Result<bool, CatalogError> {
        let done = sqlx::query("DELETE FROM live_streams WHERE cloud = $1 AND id = $2")
            .bind(cloud)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("delete live stream"))?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn live_stream_outputs(
        &self,
        stream_id: &str,
    ) -> Result<Vec<LiveOutput>, CatalogError> {
        sqlx::query_as::<_, LiveOutput>(concat!(
            "SELECT ",
            output_columns!(),
            " FROM live_stream_outputs WHERE stream_id = $1 \
             ORDER BY created_at, id"
        ))
        .bind(stream_id)
        .fetch_all(&self.read)
        .await
        .map_err(CatalogError::query("list live stream outputs"))
    }

    pub async fn add_live_stream_output(&self, output: &LiveOutput) -> Result<(), CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin live stream output"))?;
        insert_output(&mut tx, output).await?;
        tx.commit()
            .await
            .map_err(CatalogError::query("commit live stream output"))
    }

    pub async fn update_live_stream_output(&self, output: &LiveOutput) -> Result<(), CatalogError> {
        sqlx::query(
            "UPDATE live_stream_outputs SET name = $1, uri = $2, stream_key = $3, public_id = $4, \
             updated_at = $5 WHERE id = $6 AND stream_id = $7",
        )
        .bind(&output.name)
        .bind(&output.uri)
        .bind(&output.stream_key)
        .bind(&output.public_id)
        .bind(output.updated_at)
        .bind(&output.id)
        .bind(&output.stream_id)
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("update live stream output"))?;
        Ok(())
    }

    pub async fn delete_live_stream_output(
        &self,
        stream_id: &str,
        id: &str,
    ) -> Result<bool, CatalogError> {
        let done = sqlx::query("DELETE FROM live_stream_outputs WHERE stream_id = $1 AND id = $2")
            .bind(stream_id)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("delete live stream output"))?;
        Ok(done.rows_affected() > 0)
    }
}

async fn insert_output(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    output: &LiveOutput,
) -> Result<(), CatalogError> {
    sqlx::query(concat!(
        "INSERT INTO live_stream_outputs (",
        output_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(&output.id)
    .bind(&output.stream_id)
    .bind(&output.kind)
    .bind(&output.name)
    .bind(&output.uri)
    .bind(&output.stream_key)
    .bind(&output.vendor)
    .bind(&output.public_id)
    .bind(output.created_at)
    .bind(output.updated_at)
    .execute(&mut **tx)
    .await
    .map_err(CatalogError::query("insert live stream output"))?;
    Ok(())
}
