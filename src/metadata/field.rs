//! Metadata field definitions as the Metadata API reads and writes them, checked whole before
//! they are stored: an id, a label, a type, its datasource for `enum` and `set`, validation
//! rules that fit the type, and a default value the field itself accepts.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::MetadataError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Integer,
    Date,
    Enum,
    Set,
}

/// A rule on values: string length, or bounds on integers and dates (`equals` makes a bound
/// inclusive); `and` combines rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Validation {
    Strlen {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u64>,
    },
    GreaterThan {
        value: Value,
        #[serde(default)]
        equals: bool,
    },
    LessThan {
        value: Value,
        #[serde(default)]
        equals: bool,
    },
    And {
        rules: Vec<Validation>,
    },
}

/// One choice of an `enum` or `set` field. Deleted entries stay, `inactive`, so values that
/// used them still read; new values may not use them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub external_id: String,
    pub value: String,
    #[serde(default = "active")]
    pub state: String,
}

fn active() -> String {
    "active".into()
}

impl Entry {
    pub fn is_active(&self) -> bool {
        self.state == "active"
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Datasource {
    pub values: Vec<Entry>,
}

/// A field definition, serialized exactly as the Metadata API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub external_id: String,
    pub label: String,
    #[serde(default)]
    pub mandatory: bool,
    #[serde(default)]
    pub default_value: Option<Value>,
    #[serde(default)]
    pub default_disabled: bool,
    #[serde(default)]
    pub validation: Option<Validation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource: Option<Datasource>,
    #[serde(default = "no_restrictions")]
    pub restrictions: Value,
}

fn no_restrictions() -> Value {
    serde_json::json!({"readonly_ui": false})
}

impl Field {
    /// A definition from a Metadata API body, with ids given to datasource entries that have
    /// none (from their values), and every rule checked.
    pub fn from_json(body: Value) -> Result<Field, MetadataError> {
        let mut field: Field = serde_json::from_value(body)
            .map_err(|e| MetadataError(format!("Invalid metadata field: {e}")))?;
        if field.external_id.is_empty() {
            field.external_id = slug(&field.label);
        }
        if let Some(source) = field.datasource.as_mut() {
            name_entries(source);
        }
        field.check()?;
        Ok(field)
    }

    /// This definition with the keys of `changes` replaced (an update), checked again. The
    /// type and the id do not change.
    pub fn updated(&self, changes: Value) -> Result<Field, MetadataError> {
        let Value::Object(changes) = changes else {
            return Err(MetadataError(
                "Invalid metadata field: a JSON object is expected".into(),
            ));
        };
        let mut merged = serde_json::to_value(self)
            .map_err(|e| MetadataError(format!("Invalid metadata field: {e}")))?;
        for (key, value) in changes {
            if key == "type" && value != merged["type"] {
                return Err(MetadataError(format!(
                    "The type of metadata field {} cannot change",
                    self.external_id
                )));
            }
            if key != "external_id" {
                merged[key] = value;
            }
        }
        Field::from_json(merged)
    }

    fn check(&self) -> Result<(), MetadataError> {
        let id = &self.external_id;
        let fine_id = !id.is_empty()
            && id.len() <= 255
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !fine_id {
            return Err(MetadataError(format!(
                "Invalid external_id {id:?}: letters, digits, '_' and '-' only"
            )));
        }
        if self.label.trim().is_empty() {
            return Err(MetadataError(format!("Metadata field {id} needs a label")));
        }
        let listed = matches!(self.field_type, FieldType::Enum | FieldType::Set);
        match (&self.datasource, listed) {
            (None, true) => {
                return Err(MetadataError(format!(
                    "Metadata field {id} is a list and needs a datasource with values"
                )));
            }
            (Some(_), false) => {
                return Err(MetadataError(format!(
                    "Metadata field {id}: only enum and set fields have a datasource"
                )));
            }
            (Some(source), true) => check_entries(id, source)?,
            (None, false) => {}
        }
        if let Some(rule) = &self.validation {
            self.check_rule(rule)?;
        }
        if let Some(default) = &self.default_value {
            let text = match default {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            super::value::typed(self, &text)
                .map_err(|e| MetadataError(format!("Invalid default_value: {}", e.0)))?;
        }
        Ok(())
    }

    fn check_rule(&self, rule: &Validation) -> Result<(), MetadataError> {
        let id = &self.external_id;
        match (rule, self.field_type) {
            (Validation::And { rules }, _) => rules.iter().try_for_each(|r| self.check_rule(r)),
            (Validation::Strlen { min, max }, FieldType::String) => match (min, max) {
                (Some(a), Some(b)) if a > b => Err(MetadataError(format!(
                    "Metadata field {id}: strlen min {a} is above max {b}"
                ))),
                _ => Ok(()),
            },
            (
                Validation::GreaterThan { value, .. } | Validation::LessThan { value, .. },
                FieldType::Integer | FieldType::Date,
            ) => {
                let text = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                super::value::typed_plain(self.field_type, &text)
                    .map(|_| ())
                    .map_err(|e| MetadataError(format!("Metadata field {id}: bound {}", e.0)))
            }
            (rule, kind) => Err(MetadataError(format!(
                "Metadata field {id}: the {} rule does not apply to {kind:?} fields",
                rule_name(rule)
            ))),
        }
    }

    /// Adds datasource entries, or changes the value of those whose id exists.
    pub fn put_entries(&mut self, entries: Vec<Entry>) -> Result<(), MetadataError> {
        let source = self.listed()?;
        for mut entry in entries {
            match source
                .values
                .iter_mut()
                .find(|e| !entry.external_id.is_empty() && e.external_id == entry.external_id)
            {
                Some(existing) => existing.value = entry.value,
                None => {
                    entry.state = active();
                    source.values.push(entry);
                }
            }
        }
        name_entries(source);
        self.check()
    }

    /// Marks entries inactive (deleted) or active again (restored); every id must exist.
    pub fn set_entries_active(&mut self, ids: &[String], on: bool) -> Result<(), MetadataError> {
        let id = self.external_id.clone();
        let source = self.listed()?;
        for wanted in ids {
            let entry = source
                .values
                .iter_mut()
                .find(|e| &e.external_id == wanted)
                .ok_or_else(|| {
                    MetadataError(format!(
                        "Metadata field {id} has no datasource entry {wanted}"
                    ))
                })?;
            entry.state = if on { active() } else { "inactive".into() };
        }
        Ok(())
    }

    /// Orders the datasource by entry value.
    pub fn order_entries(&mut self, descending: bool) -> Result<(), MetadataError> {
        let source = self.listed()?;
        source.values.sort_by(|a, b| a.value.cmp(&b.value));
        if descending {
            source.values.reverse();
        }
        Ok(())
    }

    fn listed(&mut self) -> Result<&mut Datasource, MetadataError> {
        let id = self.external_id.clone();
        self.datasource.as_mut().ok_or_else(|| {
            MetadataError(format!(
                "Metadata field {id} is not an enum or set and has no datasource"
            ))
        })
    }

    /// The active entry with this id.
    pub fn entry(&self, external_id: &str) -> Option<&Entry> {
        self.datasource
            .as_ref()?
            .values
            .iter()
            .find(|e| e.external_id == external_id && e.is_active())
    }
}

pub(super) fn rule_name(rule: &Validation) -> &'static str {
    match rule {
        Validation::Strlen { .. } => "strlen",
        Validation::GreaterThan { .. } => "greater_than",
        Validation::LessThan { .. } => "less_than",
        Validation::And { .. } => "and",
    }
}

fn check_entries(id: &str, source: &Datasource) -> Result<(), MetadataError> {
    if source.values.is_empty() {
        return Err(MetadataError(format!(
            "Metadata field {id} is a list and needs a datasource with values"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for entry in &source.values {
        if !seen.insert(entry.external_id.as_str()) {
            return Err(MetadataError(format!(
                "Metadata field {id}: datasource entry {} appears twice",
                entry.external_id
            )));
        }
        if !matches!(entry.state.as_str(), "active" | "inactive") {
            return Err(MetadataError(format!(
                "Metadata field {id}: entry state {:?} is not active or inactive",
                entry.state
            )));
        }
    }
    Ok(())
}

/// Gives entries without an id one made from their value, unique within the datasource.
pub(super) fn name_entries(source: &mut Datasource) {
    let mut taken: std::collections::HashSet<String> = source
        .values
        .iter()
        .map(|e| e.external_id.clone())
        .filter(|id| !id.is_empty())
        .collect();
    for entry in &mut source.values {
        if entry.external_id.is_empty() {
            let base = slug(&entry.value);
            let mut id = base.clone();
            let mut n = 1;
            while taken.contains(&id) {
                n += 1;
                id = format!("{base}_{n}");
            }
            taken.insert(id.clone());
            entry.external_id = id;
        }
    }
}

/// Lower-case letters and digits of `text`, other runs as `_` (`"Dark Red"` → `dark_red`).
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() { "field".into() } else { out }
}
