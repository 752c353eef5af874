//! Values given to assets: the text of one `field=value` pair made into typed JSON, checked
//! against the field's type, datasource and validation; and what a whole `metadata` parameter
//! does to an asset (with defaults and mandatory fields for a new one).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::field::rule_name;
use super::{Field, FieldType, MetadataError, Validation};

/// What a `metadata` parameter does: fields to set (typed) and fields to clear.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assignment {
    pub set: BTreeMap<String, Value>,
    pub clear: Vec<String>,
}

impl Assignment {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.clear.is_empty()
    }
}

/// The values `given` (field id → text; empty text clears) checked against `fields`. For a
/// `new_asset`, fields not given take their defaults and mandatory fields must end up set.
/// With `clear_invalid`, invalid and unknown values are dropped instead of refused.
pub fn assign(
    fields: &[Field],
    given: &BTreeMap<String, String>,
    new_asset: bool,
    clear_invalid: bool,
) -> Result<Assignment, MetadataError> {
    let mut out = Assignment::default();
    for (id, text) in given {
        let Some(field) = fields.iter().find(|f| &f.external_id == id) else {
            if clear_invalid {
                continue;
            }
            return Err(MetadataError(format!("Metadata field {id} does not exist")));
        };
        if text.is_empty() {
            if field.mandatory {
                return Err(MetadataError(format!(
                    "Metadata field {id} is mandatory and cannot be cleared"
                )));
            }
            out.clear.push(id.clone());
            continue;
        }
        match typed(field, text) {
            Ok(value) => {
                out.set.insert(id.clone(), value);
            }
            Err(_) if clear_invalid => out.clear.push(id.clone()),
            Err(e) => return Err(e),
        }
    }
    if new_asset {
        for field in fields {
            if out.set.contains_key(&field.external_id) || field.default_disabled {
                continue;
            }
            if let Some(default) = &field.default_value {
                out.set.insert(field.external_id.clone(), default.clone());
            }
        }
        if let Some(missing) = fields
            .iter()
            .find(|f| f.mandatory && !out.set.contains_key(&f.external_id))
        {
            return Err(MetadataError(format!(
                "Metadata field {} is mandatory: give it a value",
                missing.external_id
            )));
        }
    }
    Ok(out)
}

/// `text` as a value of `field`: its type, its datasource and its rules.
pub(super) fn typed(field: &Field, text: &str) -> Result<Value, MetadataError> {
    let id = &field.external_id;
    let value = match field.field_type {
        FieldType::String => json!(text),
        FieldType::Integer | FieldType::Date => typed_plain(field.field_type, text)
            .map_err(|e| MetadataError(format!("Metadata field {id}: {}", e.0)))?,
        FieldType::Enum => {
            entry_of(field, text)?;
            json!(text)
        }
        FieldType::Set => {
            let ids: Vec<String> = if text.trim_start().starts_with('[') {
                serde_json::from_str(text).map_err(|_| {
                    MetadataError(format!(
                        "Metadata field {id}: a set is a JSON list of entry ids, not {text:?}"
                    ))
                })?
            } else {
                vec![text.to_string()]
            };
            let mut unique: Vec<String> = Vec::new();
            for entry in ids {
                entry_of(field, &entry)?;
                if !unique.contains(&entry) {
                    unique.push(entry);
                }
            }
            json!(unique)
        }
    };
    if let Some(rule) = &field.validation {
        check(field, rule, &value)?;
    }
    Ok(value)
}

/// An integer or a `YYYY-MM-DD` date from text.
pub(super) fn typed_plain(kind: FieldType, text: &str) -> Result<Value, MetadataError> {
    match kind {
        FieldType::Integer => text
            .trim()
            .parse::<i64>()
            .map(|n| json!(n))
            .map_err(|_| MetadataError(format!("{text:?} is not an integer"))),
        FieldType::Date => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map(|d| json!(d.format("%Y-%m-%d").to_string()))
            .map_err(|_| MetadataError(format!("{text:?} is not a date like 2026-11-29"))),
        _ => Ok(json!(text)),
    }
}

fn entry_of(field: &Field, entry: &str) -> Result<(), MetadataError> {
    field.entry(entry).map(|_| ()).ok_or_else(|| {
        MetadataError(format!(
            "Metadata field {}: {entry:?} is not one of its datasource entries",
            field.external_id
        ))
    })
}

fn check(field: &Field, rule: &Validation, value: &Value) -> Result<(), MetadataError> {
    let id = &field.external_id;
    let broken = || {
        MetadataError(format!(
            "Metadata field {id}: {value} breaks its {} rule",
            rule_name(rule)
        ))
    };
    match rule {
        Validation::And { rules } => rules.iter().try_for_each(|r| check(field, r, value)),
        Validation::Strlen { min, max } => {
            let len = value.as_str().map_or(0, |s| s.chars().count()) as u64;
            if min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m) {
                return Err(broken());
            }
            Ok(())
        }
        Validation::GreaterThan {
            value: bound,
            equals,
        }
        | Validation::LessThan {
            value: bound,
            equals,
        } => {
            let bound_text = match bound {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let bound = typed_plain(field.field_type, &bound_text)?;
            let order = match (value, &bound) {
                (Value::Number(a), Value::Number(b)) => {
                    a.as_i64().unwrap_or(0).cmp(&b.as_i64().unwrap_or(0))
                }
                (Value::String(a), Value::String(b)) => a.cmp(b),
                _ => return Err(broken()),
            };
            let greater = matches!(rule, Validation::GreaterThan { .. });
            let fine = match order {
                std::cmp::Ordering::Equal => *equals,
                std::cmp::Ordering::Greater => greater,
                std::cmp::Ordering::Less => !greater,
            };
            if fine { Ok(()) } else { Err(broken()) }
        }
    }
}
