//! Search expressions (`crate::search`) as catalog queries, the same SQL on SQLite and
//! PostgreSQL: text matches compare lower-cased values (`LIKE … ESCAPE` for prefixes), tags are
//! an `EXISTS` on `asset_tags`, numbers and RFC 3339 dates compare as stored.

use sqlx::Row;

use super::assets::{ASSET_COLUMNS, asset_from_row};
use super::sql::Sql;
use super::{Asset, Catalog, CatalogError};
use crate::search::{Bound, Comparison, Expr, Field, Keyed, Space, Test, Text};

/// How results are ordered: a field and whether it ascends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: Field,
    pub ascending: bool,
}

/// One page of results and how many match in all.
#[derive(Debug, Clone)]
pub struct Found {
    pub assets: Vec<Asset>,
    pub total: i64,
}

impl Catalog {
    /// Assets of `cloud` matching `expr`, ordered by `sort` (then newest first), `limit` from
    /// `offset`; with their tags.
    pub async fn search_assets(
        &self,
        cloud: &str,
        expr: &Expr,
        sort: &[SortKey],
        limit: i64,
        offset: i64,
    ) -> Result<Found, CatalogError> {
        let mut count = Sql::new("SELECT COUNT(*) AS n FROM assets WHERE cloud = ");
        count.bind(cloud.to_string()).push(" AND ");
        condition(&mut count, expr);
        let total: i64 = count
            .build()
            .fetch_one(&self.read)
            .await
            .map_err(CatalogError::query("count search"))?
            .try_get("n")
            .map_err(|e| CatalogError::Corrupt(format!("search count: {e}")))?;

        let mut page = Sql::new(format!("SELECT {ASSET_COLUMNS} FROM assets WHERE cloud = "));
        page.bind(cloud.to_string()).push(" AND ");
        condition(&mut page, expr);
        page.push(" ORDER BY ");
        for key in sort {
            page.push(sort_column(key.field)).push(if key.ascending {
                " ASC, "
            } else {
                " DESC, "
            });
        }
        page.push("created_at DESC, id DESC LIMIT ")
            .bind(limit)
            .push(" OFFSET ")
            .bind(offset);
        let rows = page
            .build()
            .fetch_all(&self.read)
            .await
            .map_err(CatalogError::query("search"))?;
        let mut assets = rows
            .iter()
            .map(asset_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        self.load_tags(&mut assets, &self.read).await?;
        Ok(Found { assets, total })
    }
}

impl Catalog {
    /// How many assets matching `expr` have each value of `field` (`format`, `resource_type`,
    /// `type`).
    pub async fn search_counts(
        &self,
        cloud: &str,
        expr: &Expr,
        field: Field,
    ) -> Result<Vec<(String, i64)>, CatalogError> {
        let column = sort_column(field);
        let mut q = Sql::new(format!(
            "SELECT {column} AS v, COUNT(*) AS n FROM assets WHERE cloud = "
        ));
        q.bind(cloud.to_string()).push(" AND ");
        condition(&mut q, expr);
        q.push(&format!(" GROUP BY {column} ORDER BY n DESC, v"));
        let rows = q
            .build()
            .fetch_all(&self.read)
            .await
            .map_err(CatalogError::query("search counts"))?;
        rows.iter()
            .map(|r| {
                let corrupt = |e: sqlx::Error| CatalogError::Corrupt(format!("search counts: {e}"));
                Ok((
                    r.try_get("v").map_err(corrupt)?,
                    r.try_get("n").map_err(corrupt)?,
                ))
            })
            .collect()
    }
}

/// The column a field sorts by.
fn sort_column(field: Field) -> &'static str {
    match field {
        Field::PublicId | Field::DisplayName | Field::Filename | Field::Folder => "public_id",
        Field::AssetId => "asset_id",
        Field::ResourceType => "resource_type",
        Field::Type => "delivery_type",
        Field::Format => "format",
        Field::Bytes | Field::Tags => "bytes",
        Field::Width => "width",
        Field::Height => "height",
        Field::Duration => "duration",
        Field::CreatedAt => "created_at",
        Field::UploadedAt => "updated_at",
    }
}

/// Appends the condition for `expr`.
fn condition(q: &mut Sql, expr: &Expr) {
    match expr {
        Expr::And(parts) | Expr::Or(parts) if parts.is_empty() => {
            q.push("1 = 1");
        }
        Expr::And(parts) | Expr::Or(parts) => {
            let joiner = if matches!(expr, Expr::And(_)) {
                " AND "
            } else {
                " OR "
            };
            q.push("(");
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    q.push(joiner);
                }
                condition(q, p);
            }
            q.push(")");
        }
        Expr::Not(inner) => {
            q.push("NOT (");
            condition(q, inner);
            q.push(")");
        }
        Expr::Any(text) => {
            q.push("(");
            matches(q, Field::PublicId, text);
            q.push(" OR ");
            matches(q, Field::DisplayName, text);
            q.push(" OR ");
            matches(q, Field::Tags, text);
            q.push(")");
        }
        Expr::Keyed(keyed) => keyed_condition(q, keyed),
        Expr::Term(term) => match &term.test {
            Test::Match(text) => matches(q, term.field, text),
            Test::Exact(value) => exact(q, term.field, value),
            Test::Compare(c, bound) => {
                q.push(sort_column(term.field)).push(match c {
                    Comparison::Less => " < ",
                    Comparison::LessOrEqual => " <= ",
                    Comparison::Greater => " > ",
                    Comparison::GreaterOrEqual => " >= ",
                });
                bind_bound(q, bound);
            }
            Test::Range {
                from,
                to,
                from_inclusive,
                to_inclusive,
            } => {
                let column = sort_column(term.field);
                q.push("(1 = 1");
                if let Some(b) = from {
                    q.push(" AND ")
                        .push(column)
                        .push(if *from_inclusive { " >= " } else { " > " });
                    bind_bound(q, b);
                }
                if let Some(b) = to {
                    q.push(" AND ")
                        .push(column)
                        .push(if *to_inclusive { " <= " } else { " < " });
                    bind_bound(q, b);
                }
                q.push(")");
            }
        },
    }
}

/// A metadata value or a context value of the asset passing `keyed.test`: an `EXISTS` on
/// `asset_metadata` (numbers compare as numbers, dates as `YYYY-MM-DD` text) or
/// `asset_context`.
fn keyed_condition(q: &mut Sql, keyed: &Keyed) {
    let (table, key_column) = match keyed.space {
        Space::Metadata => ("asset_metadata", "field"),
        Space::Context => ("asset_context", "key"),
    };
    q.push(&format!(
        "EXISTS (SELECT 1 FROM {table} k WHERE k.asset_row = assets.id AND k.{key_column} = "
    ))
    .bind(keyed.key.clone())
    .push(" AND ");
    let compare = |q: &mut Sql, op: &str, bound: &Bound| {
        match bound {
            Bound::Number(n) => q.push("k.number").push(op).bind(*n),
            // Metadata dates are days: compare with the bound's day.
            Bound::Date(d) => q
                .push("k.value")
                .push(op)
                .bind(d.chars().take(10).collect::<String>()),
        };
    };
    match &keyed.test {
        Test::Match(text) => {
            let value = like_literal(&text.value.to_lowercase());
            let tail = if text.prefix { "%" } else { "" };
            q.push("LOWER(k.value) LIKE ")
                .bind(format!("{value}{tail}"))
                .push(" ESCAPE '\\'");
        }
        Test::Exact(value) => {
            q.push("k.value = ").bind(value.clone());
        }
        Test::Compare(c, bound) => compare(
            q,
            match c {
                Comparison::Less => " < ",
                Comparison::LessOrEqual => " <= ",
                Comparison::Greater => " > ",
                Comparison::GreaterOrEqual => " >= ",
            },
            bound,
        ),
        Test::Range {
            from,
            to,
            from_inclusive,
            to_inclusive,
        } => {
            q.push("1 = 1");
            if let Some(b) = from {
                q.push(" AND ");
                compare(q, if *from_inclusive { " >= " } else { " > " }, b);
            }
            if let Some(b) = to {
                q.push(" AND ");
                compare(q, if *to_inclusive { " <= " } else { " < " }, b);
            }
        }
    }
    q.push(")");
}

fn bind_bound(q: &mut Sql, bound: &Bound) {
    match bound {
        Bound::Number(n) => q.bind(*n),
        Bound::Date(d) => q.bind(d.clone()),
    };
}

/// `%`, `_` and `\` taken literally in a `LIKE … ESCAPE '\'` pattern.
fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Case-insensitive match of a text field (a prefix when `text.prefix`).
fn matches(q: &mut Sql, field: Field, text: &Text) {
    let value = like_literal(&text.value.to_lowercase());
    let tail = if text.prefix { "%" } else { "" };
    match field {
        Field::Tags => {
            q.push(
                "EXISTS (SELECT 1 FROM asset_tags t WHERE t.asset_row = assets.id AND LOWER(t.tag) LIKE ",
            )
            .bind(format!("{value}{tail}"))
            .push(" ESCAPE '\\')");
        }
        // The last segment of the public id (what results show as `filename`).
        Field::DisplayName | Field::Filename => {
            q.push("(LOWER(public_id) LIKE ")
                .bind(format!("{value}{tail}"))
                .push(" ESCAPE '\\' AND public_id NOT LIKE '%/%' OR LOWER(public_id) LIKE ")
                .bind(format!("%/{value}{tail}"))
                .push(" ESCAPE '\\')");
        }
        // The folder: everything before the last `/` of the public id.
        Field::Folder => {
            q.push("(LOWER(public_id) LIKE ")
                .bind(format!("{value}{tail}/%"))
                .push(" ESCAPE '\\'");
            if !text.prefix {
                q.push(" AND LOWER(public_id) NOT LIKE ")
                    .bind(format!("{value}/%/%"))
                    .push(" ESCAPE '\\'");
            }
            q.push(")");
        }
        _ => {
            q.push("LOWER(COALESCE(")
                .push(sort_column(field))
                .push(", '')) LIKE ")
                .bind(format!("{value}{tail}"))
                .push(" ESCAPE '\\'");
        }
    }
}

/// Exact (case-sensitive) equality.
fn exact(q: &mut Sql, field: Field, value: &str) {
    match field {
        Field::Tags => {
            q.push("EXISTS (SELECT 1 FROM asset_tags t WHERE t.asset_row = assets.id AND t.tag = ")
                .bind(value.to_string())
                .push(")");
        }
        Field::DisplayName | Field::Filename | Field::Folder => matches(
            q,
            field,
            &Text {
                value: value.to_string(),
                prefix: false,
            },
        ),
        _ => {
            q.push(sort_column(field))
                .push(" = ")
                .bind(value.to_string());
        }
    }
}
