//! The Search API's expression language (`POST /resources/search`), parsed into a tree the
//! catalog turns into a query. Pure: no I/O, no SQL. What Cloudinary documents, for the fields
//! Kino stores: `field:value` (tokens; a trailing `*` matches a prefix), `field=value` (the
//! whole value), comparisons and ranges on numbers and dates, `AND`, `OR`, `NOT`, `+`/`-`,
//! parentheses and quoted values. A field Kino does not know is an error that names it.

mod lexer;
mod parser;

pub use parser::parse;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// `field<op>value`.
    Term(Term),
    /// `metadata.<field><op>value` or `context.<key><op>value`.
    Keyed(Keyed),
    /// A bare value: matches the public id, its last segment (the file name) or a tag.
    Any(Text),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub field: Field,
    pub test: Test,
}

/// A term on a named structured-metadata field or context key.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyed {
    pub space: Space,
    pub key: String,
    pub test: Test,
}

/// Where a keyed term looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// Structured metadata: matches as text; compares as a number, or as a date when the
    /// value is not a number.
    Metadata,
    /// Context: text only.
    Context,
}

/// The fields Kino can search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    PublicId,
    AssetId,
    Filename,
    DisplayName,
    Folder,
    Tags,
    ResourceType,
    Type,
    Format,
    Bytes,
    Width,
    Height,
    Duration,
    CreatedAt,
    UploadedAt,
}

impl Field {
    /// The field a name (or its alias) means.
    pub fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "public_id" => Field::PublicId,
            "asset_id" => Field::AssetId,
            "filename" => Field::Filename,
            "display_name" => Field::DisplayName,
            "folder" | "asset_folder" => Field::Folder,
            "tags" | "tag" => Field::Tags,
            "resource_type" => Field::ResourceType,
            "type" => Field::Type,
            "format" => Field::Format,
            "bytes" => Field::Bytes,
            "width" => Field::Width,
            "height" => Field::Height,
            "duration" => Field::Duration,
            "created_at" => Field::CreatedAt,
            "uploaded_at" => Field::UploadedAt,
            _ => return None,
        })
    }

    /// Numbers and dates compare; the rest match text.
    pub fn kind(self) -> Kind {
        match self {
            Field::Bytes | Field::Width | Field::Height | Field::Duration => Kind::Number,
            Field::CreatedAt | Field::UploadedAt => Kind::Date,
            _ => Kind::Text,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Date,
    /// Structured metadata: text, or a number or a date when compared.
    Loose,
}

/// A text to match: the whole value, or a prefix (`value*`).
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub value: String,
    pub prefix: bool,
}

/// What a term checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// `:` — equal (case-insensitive), or starts with when `prefix`.
    Match(Text),
    /// `=` — exactly equal.
    Exact(String),
    Compare(Comparison, Bound),
    /// `[a TO b]` (inclusive), `{a TO b}` (exclusive), or mixed (`{a TO b]`); `*` leaves an
    /// end open.
    Range {
        from: Option<Bound>,
        to: Option<Bound>,
        from_inclusive: bool,
        to_inclusive: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// A number, or a date as RFC 3339 UTC text (relative dates already resolved).
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    Number(f64),
    Date(String),
}

/// Why an expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid search expression: {0}")]
pub struct SearchError(pub String);

#[cfg(test)]
mod tests;
