//! Structured metadata: field definitions (kept as their JSON, in list order) and the values
//! assets hold, one row per value so search can match and compare them (`number` is set for
//! integers; a set has a row per entry).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use sqlx::{AnyConnection, Row};

use super::sql::Sql;
use super::{Asset, Catalog, CatalogError};
use crate::metadata::{Assignment, Field};

fn field_from_row(row: &sqlx::any::AnyRow) -> Result<Field, CatalogError> {
    let text: String = row
        .try_get("definition")
        .map_err(CatalogError::query("metadata definition"))?;
    serde_json::from_str(&text)
        .map_err(|e| CatalogError::Corrupt(format!("metadata field definition: {e}")))
}

fn definition(field: &Field) -> String {
    serde_json::to_string(field).unwrap_or_else(|_| "{}".into())
}

/// Writes what `assignment` sets and clears on one asset (other fields keep their values).
pub(super) async fn write_metadata(
    conn: &mut AnyConnection,
    row: i64,
    cloud: &str,
    assignment: &Assignment,
) -> Result<(), CatalogError> {
    let touched = assignment.set.keys().chain(assignment.clear.iter());
    for field in touched {
        sqlx::query("DELETE FROM asset_metadata WHERE asset_row = $1 AND field = $2")
            .bind(row)
            .bind(field)
            .execute(&mut *conn)
            .await
            .map_err(CatalogError::query("clear metadata value"))?;
    }
    for (field, value) in &assignment.set {
        let items: Vec<(i64, &Value)> = match value {
            Value::Array(items) => (0..).zip(items.iter()).collect(),
            one => vec![(-1, one)],
        };
        for (position, item) in items {
            let text = match item {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // Two statements, not one with an optional number: PostgreSQL keeps the parameter
            // types of the first use of a prepared statement, and a typeless NULL is not a
            // float.
            let query = match item.as_f64() {
                Some(n) => sqlx::query(
                    "INSERT INTO asset_metadata (asset_row, cloud, field, position, value, number) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(row)
                .bind(cloud)
                .bind(field)
                .bind(position)
                .bind(text)
                .bind(n),
                None => sqlx::query(
                    "INSERT INTO asset_metadata (asset_row, cloud, field, position, value, number) \
                     VALUES ($1, $2, $3, $4, $5, NULL)",
                )
                .bind(row)
                .bind(cloud)
                .bind(field)
                .bind(position)
                .bind(text),
            };
            query
                .execute(&mut *conn)
                .await
                .map_err(CatalogError::query("write metadata value"))?;
        }
    }
    Ok(())
}

impl Catalog {
    /// The field definitions of `cloud`, in list order.
    pub async fn metadata_fields(&self, cloud: &str) -> Result<Vec<Field>, CatalogError> {
        let rows = sqlx::query(
            "SELECT definition FROM metadata_fields WHERE cloud = $1 ORDER BY position, external_id",
        )
        .bind(cloud)
        .fetch_all(&self.read)
        .await
        .map_err(CatalogError::query("list metadata fields"))?;
        rows.iter().map(field_from_row).collect()
    }

    pub async fn metadata_field(&self, cloud: &str, id: &str) -> Result<Field, CatalogError> {
        let row = sqlx::query(
            "SELECT definition FROM metadata_fields WHERE cloud = $1 AND external_id = $2",
        )
        .bind(cloud)
        .bind(id)
        .fetch_optional(&self.read)
        .await
        .map_err(CatalogError::query("get metadata field"))?;
        match row {
            Some(r) => field_from_row(&r),
            None => Err(CatalogError::NotFound(format!(
                "Metadata field {id} not found"
            ))),
        }
    }

    /// Adds a field at the end of the list.
    pub async fn create_metadata_field(
        &self,
        cloud: &str,
        field: &Field,
    ) -> Result<(), CatalogError> {
        let done = sqlx::query(
            "INSERT INTO metadata_fields (cloud, external_id, position, definition) \
             SELECT $1, $2, COALESCE(MAX(position), 0) + 1, $3 FROM metadata_fields WHERE cloud = $4 \
             ON CONFLICT (cloud, external_id) DO NOTHING",
        )
        .bind(cloud)
        .bind(&field.external_id)
        .bind(definition(field))
        .bind(cloud)
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("create metadata field"))?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::AlreadyExists(format!(
                "Metadata field {}",
                field.external_id
            )));
        }
        Ok(())
    }

    /// Replaces a field's definition (same id).
    pub async fn update_metadata_field(
        &self,
        cloud: &str,
        field: &Field,
    ) -> Result<(), CatalogError> {
        let done = sqlx::query(
            "UPDATE metadata_fields SET definition = $1 WHERE cloud = $2 AND external_id = $3",
        )
        .bind(definition(field))
        .bind(cloud)
        .bind(&field.external_id)
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("update metadata field"))?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound(format!(
                "Metadata field {} not found",
                field.external_id
            )));
        }
        Ok(())
    }

    /// Gives the fields the list order of `ids`.
    pub async fn order_metadata_fields(
        &self,
        cloud: &str,
        ids: &[String],
    ) -> Result<(), CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin order metadata fields"))?;
        for (position, id) in (1_i64..).zip(ids) {
            sqlx::query(
                "UPDATE metadata_fields SET position = $1 WHERE cloud = $2 AND external_id = $3",
            )
            .bind(position)
            .bind(cloud)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(CatalogError::query("order metadata field"))?;
        }
        tx.commit()
            .await
            .map_err(CatalogError::query("commit order metadata fields"))?;
        Ok(())
    }

    /// Deletes a field and every value assets held for it.
    pub async fn delete_metadata_field(&self, cloud: &str, id: &str) -> Result<(), CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin delete metadata field"))?;
        let done = sqlx::query("DELETE FROM metadata_fields WHERE cloud = $1 AND external_id = $2")
            .bind(cloud)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(CatalogError::query("delete metadata field"))?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound(format!(
                "Metadata field {id} not found"
            )));
        }
        sqlx::query("DELETE FROM asset_metadata WHERE cloud = $1 AND field = $2")
            .bind(cloud)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(CatalogError::query("delete metadata values"))?;
        tx.commit()
            .await
            .map_err(CatalogError::query("commit delete metadata field"))?;
        Ok(())
    }

    /// Sets and clears metadata on one asset.
    pub async fn set_metadata(
        &self,
        asset: &Asset,
        assignment: &Assignment,
    ) -> Result<(), CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin set metadata"))?;
        write_metadata(&mut tx, asset.row, &asset.cloud, assignment).await?;
        tx.commit()
            .await
            .map_err(CatalogError::query("commit set metadata"))?;
        Ok(())
    }

    /// Fills in `metadata` of `assets`.
    pub(super) async fn load_metadata(
        &self,
        assets: &mut [Asset],
        pool: &sqlx::AnyPool,
    ) -> Result<(), CatalogError> {
        if assets.is_empty() {
            return Ok(());
        }
        let mut q = Sql::new(
            "SELECT asset_row, field, position, value, number FROM asset_metadata WHERE asset_row IN (",
        );
        q.bind_list(assets.iter().map(|a| a.row))
            .push(") ORDER BY asset_row, field, position");
        let rows = q
            .build()
            .fetch_all(pool)
            .await
            .map_err(CatalogError::query("load metadata"))?;
        let mut by_row: HashMap<i64, BTreeMap<String, Value>> = HashMap::new();
        for r in rows {
            let get = |e: sqlx::Error| CatalogError::Corrupt(format!("metadata row: {e}"));
            let row: i64 = r.try_get("asset_row").map_err(get)?;
            let field: String = r.try_get("field").map_err(get)?;
            let position: i64 = r.try_get("position").map_err(get)?;
            let text: String = r.try_get("value").map_err(get)?;
            let number: Option<f64> = r.try_get("number").ok().flatten();
            let value = match number {
                Some(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Value::from(n as i64),
                _ => Value::String(text),
            };
            let values = by_row.entry(row).or_default();
            if position < 0 {
                values.insert(field, value);
            } else {
                let list = values
                    .entry(field)
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = list {
                    items.push(value);
                }
            }
        }
        for a in assets.iter_mut() {
            a.metadata = by_row.remove(&a.row).unwrap_or_default();
        }
        Ok(())
    }
}
