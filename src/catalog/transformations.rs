//! Named transformations: a transformation string saved under a name, so delivery URLs can say
//! `t_<name>`. Rows only; the definition is stored as sent and checked by the caller.
//!
//! Listings are keyset-paged by name, ascending, so a page never skips or repeats a name while
//! others are created or deleted.

use chrono::Utc;
use sqlx::Row;

use super::assets::parse_time;
use super::{Catalog, CatalogError, NamedTransformation, Page};

fn from_row(row: &sqlx::any::AnyRow) -> Result<NamedTransformation, CatalogError> {
    let text = |column: &str| -> Result<String, CatalogError> {
        row.try_get::<String, _>(column)
            .map_err(|e| CatalogError::Corrupt(format!("named transformation {column}: {e}")))
    };
    Ok(NamedTransformation {
        name: text("name")?,
        transformation: text("transformation")?,
        // Selected as an integer: the Any driver reads no SQLite BOOLEAN.
        allowed_for_strict: row.try_get::<i64, _>("allowed_for_strict").map_err(|e| {
            CatalogError::Corrupt(format!("named transformation allowed_for_strict: {e}"))
        })? != 0,
        created_at: parse_time(&text("created_at")?)?,
        updated_at: parse_time(&text("updated_at")?)?,
    })
}

impl Catalog {
    /// Whether a named transformation defined as `text` is marked `allowed_for_strict`.
    pub async fn strict_allows(&self, cloud: &str, text: &str) -> Result<bool, CatalogError> {
        let found = sqlx::query(
            "SELECT name FROM named_transformations \
             WHERE cloud = $1 AND transformation = $2 AND allowed_for_strict = $3 LIMIT 1",
        )
        .bind(cloud)
        .bind(text)
        .bind(true)
        .fetch_optional(&self.read)
        .await
        .map_err(CatalogError::query("strict transformations"))?;
        Ok(found.is_some())
    }

    /// Saves a new named transformation; `AlreadyExists` when the name is taken in `cloud`.
    pub async fn create_named_transformation(
        &self,
        cloud: &str,
        name: &str,
        transformation: &str,
        allowed_for_strict: bool,
    ) -> Result<(), CatalogError> {
        let now = Utc::now().to_rfc3339();
        let done = sqlx::query(
            "INSERT INTO named_transformations \
             (cloud, name, transformation, allowed_for_strict, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (cloud, name) DO NOTHING",
        )
        .bind(cloud)
        .bind(name)
        .bind(transformation)
        .bind(allowed_for_strict)
        .bind(&now)
        .bind(&now)
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("create named transformation"))?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::AlreadyExists(format!(
                "Transformation {name}"
            )));
        }
        Ok(())
    }

    pub async fn find_named_transformation(
        &self,
        cloud: &str,
        name: &str,
    ) -> Result<Option<NamedTransformation>, CatalogError> {
        let row = sqlx::query(
            "SELECT name, transformation, CAST(allowed_for_strict AS INTEGER) AS allowed_for_strict, created_at, updated_at \
             FROM named_transformations WHERE cloud = $1 AND name = $2",
        )
        .bind(cloud)
        .bind(name)
        .fetch_optional(&self.read)
        .await
        .map_err(CatalogError::query("get named transformation"))?;
        row.as_ref().map(from_row).transpose()
    }

    /// Replaces the definition and/or the strict flag (each only when given) in one statement;
    /// false when there is no such name.
    pub async fn update_named_transformation(
        &self,
        cloud: &str,
        name: &str,
        transformation: Option<&str>,
        allowed_for_strict: Option<bool>,
    ) -> Result<bool, CatalogError> {
        let done = sqlx::query(
            "UPDATE named_transformations SET \
             transformation = COALESCE($1, transformation), \
             allowed_for_strict = COALESCE($2, allowed_for_strict), \
             updated_at = $3 \
             WHERE cloud = $4 AND name = $5",
        )
        .bind(transformation)
        .bind(allowed_for_strict)
        .bind(Utc::now().to_rfc3339())
        .bind(cloud)
        .bind(name)
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("update named transformation"))?;
        Ok(done.rows_affected() > 0)
    }

    /// False when there was no such name.
    pub async fn delete_named_transformation(
        &self,
        cloud: &str,
        name: &str,
    ) -> Result<bool, CatalogError> {
        let done = sqlx::query("DELETE FROM named_transformations WHERE cloud = $1 AND name = $2")
            .bind(cloud)
            .bind(name)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("delete named transformation"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Up to `limit` named transformations after `after_name`, by name ascending. `next_row` is
    /// the last name of the page when more follow.
    pub async fn list_named_transformations(
        &self,
        cloud: &str,
        limit: u32,
        after_name: Option<&str>,
    ) -> Result<Page<NamedTransformation, String>, CatalogError> {
        // "" sorts before every name, so it stands for "from the start".
        let rows = sqlx::query(
            "SELECT name, transformation, CAST(allowed_for_strict AS INTEGER) AS allowed_for_strict, created_at, updated_at \
             FROM named_transformations WHERE cloud = $1 AND name > $2 ORDER BY name LIMIT $3",
        )
        .bind(cloud)
        .bind(after_name.unwrap_or(""))
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.read)
        .await
        .map_err(CatalogError::query("list named transformations"))?;
        let mut items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        let next_row = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|t| t.name.clone())
        } else {
            None
        };
        Ok(Page { items, next_row })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn catalog() -> (tempfile::TempDir, Catalog) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("kino.db").display());
        let catalog = Catalog::open(&url).await.expect("catalog opens");
        (dir, catalog)
    }

    #[tokio::test]
    async fn create_find_update_delete() {
        let (_dir, c) = catalog().await;
        c.create_named_transformation("demo", "thumb", "w_100", true)
            .await
            .expect("created");
        let err = c
            .create_named_transformation("demo", "thumb", "w_5", false)
            .await
            .expect_err("duplicate");
        assert_eq!(err.to_string(), "Transformation thumb already exists");
        // Names are per cloud.
        c.create_named_transformation("other", "thumb", "w_7", false)
            .await
            .expect("another cloud");

        let found = c
            .find_named_transformation("demo", "thumb")
            .await
            .expect("query");
        let found = found.expect("found");
        assert_eq!(
            (found.transformation.as_str(), found.allowed_for_strict),
            ("w_100", true)
        );
        assert_eq!(found.created_at, found.updated_at);

        // Each field changes only when given.
        assert!(
            c.update_named_transformation("demo", "thumb", Some("w_200"), None)
                .await
                .expect("query")
        );
        assert!(
            c.update_named_transformation("demo", "thumb", None, Some(false))
                .await
                .expect("query")
        );
        let updated = c
            .find_named_transformation("demo", "thumb")
            .await
            .expect("query")
            .expect("found");
        assert_eq!(
            (updated.transformation.as_str(), updated.allowed_for_strict),
            ("w_200", false)
        );
        assert!(updated.updated_at >= found.updated_at);
        assert_eq!(updated.created_at, found.created_at);
        assert!(
            !c.update_named_transformation("demo", "nope", Some("w_1"), None)
                .await
                .expect("query")
        );

        assert!(
            c.delete_named_transformation("demo", "thumb")
                .await
                .expect("query")
        );
        assert!(
            !c.delete_named_transformation("demo", "thumb")
                .await
                .expect("query")
        );
        assert!(
            c.find_named_transformation("demo", "thumb")
                .await
                .expect("query")
                .is_none()
        );
        let other = c
            .find_named_transformation("other", "thumb")
            .await
            .expect("query");
        assert_eq!(other.map(|t| t.transformation), Some("w_7".to_string()));
    }

    #[tokio::test]
    async fn lists_by_name_in_pages() {
        let (_dir, c) = catalog().await;
        for name in ["c", "a", "e", "b", "d"] {
            c.create_named_transformation("demo", name, "w_1", true)
                .await
                .expect("created");
        }
        c.create_named_transformation("other", "aa", "w_1", true)
            .await
            .expect("created");
        let names = |page: &Page<NamedTransformation, String>| {
            page.items
                .iter()
                .map(|t| t.name.clone())
                .collect::<Vec<_>>()
        };
        let first = c
            .list_named_transformations("demo", 2, None)
            .await
            .expect("query");
        assert_eq!(
            (names(&first), first.next_row.as_deref()),
            (vec!["a".into(), "b".into()], Some("b"))
        );
        let second = c
            .list_named_transformations("demo", 2, Some("b"))
            .await
            .expect("query");
        assert_eq!(
            (names(&second), second.next_row.as_deref()),
            (vec!["c".into(), "d".into()], Some("d"))
        );
        let last = c
            .list_named_transformations("demo", 2, Some("d"))
            .await
            .expect("query");
        assert_eq!((names(&last), last.next_row), (vec!["e".into()], None));
        let exact = c
            .list_named_transformations("demo", 5, None)
            .await
            .expect("query");
        assert_eq!((exact.items.len(), exact.next_row), (5, None));
    }
}
