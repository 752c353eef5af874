//! Who may call: Upload-API signatures (or an unsigned preset) and Admin basic auth, both
//! with the keys of the product environment the path names, and the Provisioning API's
//! basic auth with the account-level key.

use base64::Engine;
use chrono::Utc;

use super::{Kino, ServiceError};
use crate::catalog::{Environment, Preset};
use crate::params::Params;
use crate::signing::{Verdict, verify_request};

/// Seconds a signed request stays valid (Cloudinary: one hour).
const SIGNATURE_WINDOW_SECS: i64 = 3600;

/// How an Upload-API request was authorized.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A valid signature by the account's key.
    Signed,
    /// No signature, but an unsigned upload preset.
    UnsignedPreset(Preset),
}

impl Kino {
    /// Authorizes an Upload-API call to `cloud` from its parameters. When `allow_unsigned`
    /// (upload only), a request without a signature is accepted through an unsigned preset.
    pub async fn authorize_upload(
        &self,
        cloud: &str,
        params: &Params,
        allow_unsigned: bool,
    ) -> Result<(Environment, Caller), ServiceError> {
        let env = self.environment(cloud).await?;
        let Some(signature) = params.get("signature") else {
            if !allow_unsigned {
                return Err(ServiceError::Unauthorized("Must supply api_key".into()));
            }
            let Some(name) = params.get("upload_preset") else {
                return Err(ServiceError::BadInput(
                    "Upload preset must be specified when using unsigned upload".into(),
                ));
            };
            let preset =
                self.catalog.preset(cloud, name).await?.ok_or_else(|| {
                    ServiceError::BadInput(format!("Upload preset {name} not found"))
                })?;
            if !preset.unsigned {
                return Err(ServiceError::BadInput(format!(
                    "Upload preset {name} is not enabled for unsigned uploading"
                )));
            }
            return Ok((env, Caller::UnsignedPreset(preset)));
        };
        let api_key = params
            .get("api_key")
            .ok_or_else(|| ServiceError::Unauthorized("Must supply api_key".into()))?;
        let secret = self.secret_of(&env, api_key).await?;
        let timestamp = params.get("timestamp").ok_or_else(|| {
            ServiceError::BadInput("Missing required parameter - timestamp".into())
        })?;
        let ts: i64 = timestamp.parse().map_err(|_| {
            ServiceError::BadInput(format!(
                "Invalid timestamp {timestamp:?}: expected Unix seconds"
            ))
        })?;
        let now = Utc::now().timestamp();
        if now - ts > SIGNATURE_WINDOW_SECS {
            let when = chrono::DateTime::from_timestamp(ts, 0)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_else(|| ts.to_string());
            return Err(ServiceError::BadInput(format!(
                "Stale request - reported time is {when} +0000 which is more than 1 hour ago"
            )));
        }
        if ts - now > SIGNATURE_WINDOW_SECS {
            return Err(ServiceError::BadInput(format!(
                "Invalid timestamp {ts}: more than 1 hour in the future"
            )));
        }
        let secret = secret.as_str();
        let verdict = match verify_request(params, signature, secret) {
            Verdict::Valid => Verdict::Valid,
            invalid @ Verdict::Invalid { .. } => {
                // pycloudinary 1.46 sends `notification_url`/`batch_id` on tags, context and
                // metadata calls without signing them.
                let mut trimmed = params.clone();
                let removed = [
                    trimmed.remove("notification_url"),
                    trimmed.remove("batch_id"),
                ];
                if removed.iter().any(Option::is_some)
                    && verify_request(&trimmed, signature, secret) == Verdict::Valid
                {
                    Verdict::Valid
                } else {
                    invalid
                }
            }
        };
        match verdict {
            Verdict::Valid => Ok((env, Caller::Signed)),
            Verdict::Invalid { string_to_sign } => Err(ServiceError::Unauthorized(format!(
                "Invalid Signature {signature}. String to sign - '{string_to_sign}'."
            ))),
        }
    }

    /// Checks a Provisioning API call: the account-level key in `header`, then the account
    /// id of the path.
    pub fn authorize_account(
        &self,
        account_id: &str,
        header: Option<&str>,
    ) -> Result<(), ServiceError> {
        let (key, secret) = basic_credentials(header)?;
        if key != self.account_key.key || secret != self.account_key.secret.expose() {
            return Err(ServiceError::Unauthorized(
                "Invalid account credentials: use the provisioning key and secret \
                 (CLOUDINARY_ACCOUNT_URL)"
                    .into(),
            ));
        }
        if account_id != self.account_key.account_id {
            return Err(ServiceError::NotFound(format!(
                "Unknown account {account_id}"
            )));
        }
        Ok(())
    }

    /// Checks an `Authorization: Basic …` header (standard or URL-safe base64) against the
    /// keys of `cloud`.
    pub async fn authorize_admin(
        &self,
        cloud: &str,
        header: Option<&str>,
    ) -> Result<Environment, ServiceError> {
        let (key, secret) = basic_credentials(header)?;
        let env = self.environment(cloud).await?;
        let key = key.as_str();
        if secret != self.secret_of(&env, key).await? {
            return Err(ServiceError::Unauthorized(format!(
                "Invalid API secret for key {key}"
            )));
        }
        Ok(env)
    }
}

/// The key and secret of an `Authorization: Basic …` header (standard or URL-safe base64).
fn basic_credentials(header: Option<&str>) -> Result<(String, String), ServiceError> {
    let missing = || ServiceError::Unauthorized("Must supply api_key".into());
    let encoded = header
        .and_then(|h| {
            h.strip_prefix("Basic ")
                .or_else(|| h.strip_prefix("basic "))
        })
        .ok_or_else(missing)?
        .trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(encoded))
        .map_err(|_| ServiceError::Unauthorized("Malformed basic authorization".into()))?;
    let text = String::from_utf8_lossy(&decoded);
    let (key, secret) = text
        .split_once(':')
        .ok_or_else(|| ServiceError::Unauthorized("Malformed basic authorization".into()))?;
    Ok((key.to_string(), secret.to_string()))
}
