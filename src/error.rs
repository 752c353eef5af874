//! The one vocabulary every layer uses to say what kind of failure happened.
//!
//! Layer errors (`catalog::CatalogError`, `store::StoreError`, …) answer `kind()`; only
//! `api::ApiError` turns a kind into an HTTP status. That keeps HTTP out of the layers.

/// What a failure means to the caller, independent of transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request was malformed or asked for something impossible.
    BadInput,
    /// Credentials or signature missing or wrong.
    Unauthorized,
    /// Authenticated, but not allowed to do this.
    Forbidden,
    /// The thing asked for does not exist.
    NotFound,
    /// The thing to create already exists.
    Conflict,
    /// The input is bigger than a configured limit.
    TooLarge,
    /// The caller has too much work in progress; try again when some of it is done.
    RateLimited,
    /// The server is at capacity or a dependency is down; try again later.
    Busy,
    /// A bug or an unexpected failure of the machine.
    Internal,
}
