//! The Provisioning API: `/v1_1/provisioning/accounts/{account}/…`, as the SDKs'
//! `provisioning.account` module calls it (JSON bodies, HTTP basic auth with the account-level
//! key of `CLOUDINARY_ACCOUNT_URL`). Product environments are `sub_accounts`; each has its
//! `access_keys`. Users and user groups are not served: Kino has no console logins.

mod access_keys;
mod sub_accounts;

use axum::Router;
use axum::extract::Request;
use axum::http::header::AUTHORIZATION;

use super::ApiError;
use crate::service::Kino;

pub(super) fn routes() -> Router<Kino> {
    Router::new()
        .merge(sub_accounts::routes())
        .merge(access_keys::routes())
}

/// Checks the account-level credentials and the account id of the path.
fn authorized(kino: &Kino, account: &str, request: &Request) -> Result<(), ApiError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    Ok(kino.authorize_account(account, header)?)
}
