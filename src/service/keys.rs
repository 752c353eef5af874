//! API keys of a product environment: its main one (for the primary environment, the key of
//! `CLOUDINARY_URL`; for the others, the key they were made with) and the ones made through
//! the Provisioning API's `access_keys` endpoints. Any enabled key signs uploads, opens the
//! Admin API and signs delivery URLs of its environment only; a disabled or deleted key does
//! none of that. The main key cannot be renamed, disabled or deleted.

use chrono::Utc;

use super::{Kino, ServiceError};
use crate::catalog::{ApiKey, Environment, KeyChoice};

/// What the main key is called in listings.
const MAIN_KEY_NAME: &str = "main";

impl Kino {
    /// The secret of `api_key` when it may be used.
    pub(super) async fn secret_of(
        &self,
        env: &Environment,
        api_key: &str,
    ) -> Result<String, ServiceError> {
        if api_key == env.api_key {
            return Ok(env.api_secret.clone());
        }
        match self.catalog.find_api_key(&env.cloud, api_key).await? {
            Some(key) if key.enabled => Ok(key.api_secret),
            Some(_) => Err(ServiceError::Unauthorized(format!(
                "API key {api_key} is disabled"
            ))),
            None => Err(ServiceError::Unauthorized(format!(
                "Unknown API key {api_key}"
            ))),
        }
    }

    /// Whether `signature` signs `text` with the secret of an enabled key of `cloud`.
    pub async fn url_signed(
        &self,
        cloud: &str,
        text: &str,
        signature: &str,
    ) -> Result<bool, ServiceError> {
        let env = self.environment(cloud).await?;
        if crate::signing::verify_url(text, signature, &env.api_secret) {
            return Ok(true);
        }
        let keys = self.catalog.list_api_keys(cloud).await?;
        Ok(keys
            .iter()
            .filter(|k| k.enabled)
            .any(|k| crate::signing::verify_url(text, signature, &k.api_secret)))
    }

    /// The main key, then the others, oldest first.
    pub async fn api_keys(&self, env: &Environment) -> Result<Vec<ApiKey>, ServiceError> {
        let main = ApiKey {
            api_key: env.api_key.clone(),
            api_secret: env.api_secret.clone(),
            name: MAIN_KEY_NAME.into(),
            enabled: true,
            created_at: env.created_at,
            updated_at: env.created_at,
        };
        let mut keys = vec![main];
        keys.extend(self.catalog.list_api_keys(&env.cloud).await?);
        Ok(keys)
    }

    /// Makes a key (15 digits) with a new secret.
    pub async fn generate_api_key(
        &self,
        env: &Environment,
        name: Option<&str>,
        enabled: Option<bool>,
    ) -> Result<ApiKey, ServiceError> {
        let (api_key, api_secret) = crate::ids::key_pair();
        let now = Utc::now();
        let key = ApiKey {
            name: name.map_or_else(|| format!("key {api_key}"), str::to_string),
            api_key,
            api_secret,
            enabled: enabled.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        self.catalog.insert_api_key(&env.cloud, &key).await?;
        Ok(key)
    }

    /// Renames, enables or disables a key.
    pub async fn update_api_key(
        &self,
        env: &Environment,
        api_key: &str,
        name: Option<&str>,
        enabled: Option<bool>,
    ) -> Result<ApiKey, ServiceError> {
        refuse_main(env, api_key)?;
        let mut key = self
            .catalog
            .find_api_key(&env.cloud, api_key)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("API key {api_key} not found")))?;
        if let Some(n) = name {
            key.name = n.to_string();
        }
        if let Some(e) = enabled {
            key.enabled = e;
        }
        key.updated_at = Utc::now();
        self.catalog.update_api_key(&env.cloud, &key).await?;
        Ok(key)
    }

    /// Deletes a key, by its value or its name.
    pub async fn delete_api_key(
        &self,
        env: &Environment,
        which: KeyChoice<'_>,
    ) -> Result<(), ServiceError> {
        match which {
            KeyChoice::Key(k) => refuse_main(env, k)?,
            KeyChoice::Name(n) if n == MAIN_KEY_NAME => refuse_main(env, &env.api_key)?,
            KeyChoice::Name(_) => {}
        }
        if self.catalog.delete_api_keys(&env.cloud, which).await? == 0 {
            let what = match which {
                KeyChoice::Key(k) => format!("API key {k}"),
                KeyChoice::Name(n) => format!("API key named {n}"),
            };
            return Err(ServiceError::NotFound(format!("{what} not found")));
        }
        Ok(())
    }
}

fn refuse_main(env: &Environment, api_key: &str) -> Result<(), ServiceError> {
    if api_key != env.api_key {
        return Ok(());
    }
    Err(ServiceError::BadInput(if env.primary {
        "The main API key comes from CLOUDINARY_URL and cannot be changed or deleted here".into()
    } else {
        format!(
            "The main API key of product environment {} cannot be changed or deleted",
            env.cloud
        )
    }))
}
