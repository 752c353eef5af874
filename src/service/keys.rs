//! API keys: the main one (from `CLOUDINARY_URL`) and the ones made through the Provisioning
//! API's `access_keys` endpoints. Any enabled key signs uploads, opens the Admin API and signs
//! delivery URLs; a disabled or deleted key does none of that. The main key is the account's
//! own: it cannot be renamed, disabled or deleted here.

use chrono::Utc;
use rand::Rng;

use super::{Kino, ServiceError};
use crate::catalog::{ApiKey, KeyChoice};

/// What the main key is called in listings.
const MAIN_KEY_NAME: &str = "main";

impl Kino {
    /// The secret of `api_key` when it may be used.
    pub(super) async fn secret_of(
        &self,
        cloud: &str,
        api_key: &str,
    ) -> Result<String, ServiceError> {
        if api_key == self.account.api_key {
            return Ok(self.account.api_secret.expose().to_string());
        }
        match self.catalog.find_api_key(cloud, api_key).await? {
            Some(key) if key.enabled => Ok(key.api_secret),
            Some(_) => Err(ServiceError::Unauthorized(format!(
                "API key {api_key} is disabled"
            ))),
            None => Err(ServiceError::Unauthorized(format!(
                "Unknown API key {api_key}"
            ))),
        }
    }

    /// Whether `signature` signs `text` with the secret of an enabled key.
    pub async fn url_signed(
        &self,
        cloud: &str,
        text: &str,
        signature: &str,
    ) -> Result<bool, ServiceError> {
        let main = self.account.api_secret.expose();
        if crate::signing::verify_url(text, signature, main) {
            return Ok(true);
        }
        let keys = self.catalog.list_api_keys(cloud).await?;
        Ok(keys
            .iter()
            .filter(|k| k.enabled)
            .any(|k| crate::signing::verify_url(text, signature, &k.api_secret)))
    }

    /// The main key, then the others, oldest first.
    pub async fn api_keys(&self, cloud: &str) -> Result<Vec<ApiKey>, ServiceError> {
        let main = ApiKey {
            api_key: self.account.api_key.clone(),
            api_secret: self.account.api_secret.expose().to_string(),
            name: MAIN_KEY_NAME.into(),
            enabled: true,
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        };
        let mut keys = vec![main];
        keys.extend(self.catalog.list_api_keys(cloud).await?);
        Ok(keys)
    }

    /// Makes a key (15 digits) with a new secret.
    pub async fn generate_api_key(
        &self,
        cloud: &str,
        name: Option<&str>,
        enabled: Option<bool>,
    ) -> Result<ApiKey, ServiceError> {
        let (api_key, api_secret) = {
            let mut rng = rand::thread_rng();
            let digits: String = (0..15)
                .map(|i| char::from(b'0' + rng.gen_range(u8::from(i == 0)..10)))
                .collect();
            let secret: String = (0..27)
                .map(|_| {
                    const ALPHABET: &[u8] =
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                    char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])
                })
                .collect();
            (digits, secret)
        };
        let now = Utc::now();
        let key = ApiKey {
            name: name.map_or_else(|| format!("key {api_key}"), str::to_string),
            api_key,
            api_secret,
            enabled: enabled.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        self.catalog.insert_api_key(cloud, &key).await?;
        Ok(key)
    }

    /// Renames, enables or disables a key.
    pub async fn update_api_key(
        &self,
        cloud: &str,
        api_key: &str,
        name: Option<&str>,
        enabled: Option<bool>,
    ) -> Result<ApiKey, ServiceError> {
        self.refuse_main(api_key)?;
        let mut key = self
            .catalog
            .find_api_key(cloud, api_key)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("API key {api_key} not found")))?;
        if let Some(n) = name {
            key.name = n.to_string();
        }
        if let Some(e) = enabled {
            key.enabled = e;
        }
        key.updated_at = Utc::now();
        self.catalog.update_api_key(cloud, &key).await?;
        Ok(key)
    }

    /// Deletes a key, by its value or its name.
    pub async fn delete_api_key(
        &self,
        cloud: &str,
        which: KeyChoice<'_>,
    ) -> Result<(), ServiceError> {
        match which {
            KeyChoice::Key(k) => self.refuse_main(k)?,
            KeyChoice::Name(n) if n == MAIN_KEY_NAME => self.refuse_main(&self.account.api_key)?,
            KeyChoice::Name(_) => {}
        }
        if self.catalog.delete_api_keys(cloud, which).await? == 0 {
            let what = match which {
                KeyChoice::Key(k) => format!("API key {k}"),
                KeyChoice::Name(n) => format!("API key named {n}"),
            };
            return Err(ServiceError::NotFound(format!("{what} not found")));
        }
        Ok(())
    }

    fn refuse_main(&self, api_key: &str) -> Result<(), ServiceError> {
        if api_key == self.account.api_key {
            return Err(ServiceError::BadInput(
                "The main API key comes from CLOUDINARY_URL and cannot be changed or deleted here"
                    .into(),
            ));
        }
        Ok(())
    }
}
