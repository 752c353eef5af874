//! Structured metadata: the field definitions of the Metadata API and the checking of values
//! given to assets. Pure: no I/O. A definition is Cloudinary's JSON (`type`, `external_id`,
//! `label`, `mandatory`, `default_value`, `validation`, `datasource` …); a value arrives as
//! text in the `field=value|…` form the SDKs send and leaves as typed JSON (a number for
//! `integer`, `YYYY-MM-DD` for `date`, an entry id for `enum`, a list of them for `set`).

mod field;
mod value;

pub use field::{Datasource, Entry, Field, FieldType, Validation};
pub use value::{Assignment, assign};

/// Why a definition or a value was refused; the message names the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MetadataError(pub String);

#[cfg(test)]
mod tests;
