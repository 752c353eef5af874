//! Credentials read at start-up: the primary product environment's and the account's.
//!
//! The primary environment comes from `CLOUDINARY_URL=cloudinary://KEY:SECRET@CLOUD` and the
//! account-level (provisioning) key from `CLOUDINARY_ACCOUNT_URL=account://KEY:SECRET@ACCOUNT`,
//! the same variables the SDKs read, so one line configures both sides. Without them, Kino
//! generates credentials on first start and keeps them in `{data_dir}/account.json` and
//! `{data_dir}/provisioning.json`, so restarts keep working clients.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// A string that never shows up in logs or `Debug` output.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The secret itself, for signing. Call sites are easy to grep.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// One product environment: its cloud name and its API credentials.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub cloud_name: String,
    pub api_key: String,
    pub api_secret: Secret,
}

impl Account {
    /// Parses `cloudinary://KEY:SECRET@CLOUD[/…][?…]`; the path and query are SDK-side settings.
    pub fn from_cloudinary_url(raw: &str) -> Result<Account, String> {
        let rest = raw
            .strip_prefix("cloudinary://")
            .ok_or_else(|| "CLOUDINARY_URL must start with cloudinary://".to_string())?;
        let (userinfo, host) = rest
            .split_once('@')
            .ok_or_else(|| "CLOUDINARY_URL needs KEY:SECRET@CLOUD".to_string())?;
        let (key, secret) = userinfo
            .split_once(':')
            .ok_or_else(|| "CLOUDINARY_URL needs KEY:SECRET before @".to_string())?;
        let cloud = host.split(['/', '?']).next().unwrap_or_default();
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let account = Account {
            cloud_name: decode(cloud),
            api_key: decode(key),
            api_secret: Secret::new(decode(secret)),
        };
        if account.cloud_name.is_empty()
            || account.api_key.is_empty()
            || account.api_secret.0.is_empty()
        {
            return Err("CLOUDINARY_URL has an empty cloud name, key or secret".into());
        }
        if !account
            .cloud_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "cloud name {:?} may only hold letters, digits, '-' and '_'",
                account.cloud_name
            ));
        }
        Ok(account)
    }

    /// Loads the account kept in the data dir; an error when there is none (clients must not
    /// invent credentials).
    pub fn load_existing(data_dir: &Path) -> Result<Account, String> {
        let path = data_dir.join("account.json");
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "no credentials: set CLOUDINARY_URL or point --data-dir at the server's ({}: {e})",
                path.display()
            )
        })?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{} is damaged: {e}", path.display()))
    }

    /// Loads the account kept in the data dir, creating one with fresh credentials if absent.
    pub fn load_or_generate(data_dir: &Path) -> Result<Account, String> {
        load_or_generate(&data_dir.join("account.json"), Account::generate)
    }

    fn generate() -> Account {
        let (api_key, secret) = crate::ids::key_pair();
        Account {
            cloud_name: "kino".into(),
            api_key,
            api_secret: Secret::new(secret),
        }
    }

    /// The line users paste into their SDK configuration.
    pub fn cloudinary_url(&self) -> String {
        format!(
            "cloudinary://{}:{}@{}",
            self.api_key, self.api_secret.0, self.cloud_name
        )
    }
}

/// The account-level key of the Provisioning API (`provisioning_api_key`/`_secret`) and the
/// account id its URLs name. It manages product environments and their keys, and opens
/// nothing else.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountKey {
    pub account_id: String,
    pub key: String,
    pub secret: Secret,
}

impl AccountKey {
    /// Parses `account://KEY:SECRET@ACCOUNT_ID`, the SDKs' `CLOUDINARY_ACCOUNT_URL`.
    pub fn from_account_url(raw: &str) -> Result<AccountKey, String> {
        let rest = raw
            .strip_prefix("account://")
            .ok_or_else(|| "CLOUDINARY_ACCOUNT_URL must start with account://".to_string())?;
        let (userinfo, host) = rest
            .split_once('@')
            .ok_or_else(|| "CLOUDINARY_ACCOUNT_URL needs KEY:SECRET@ACCOUNT_ID".to_string())?;
        let (key, secret) = userinfo
            .split_once(':')
            .ok_or_else(|| "CLOUDINARY_ACCOUNT_URL needs KEY:SECRET before @".to_string())?;
        let id = host.split(['/', '?']).next().unwrap_or_default();
        if [key, secret, id].iter().any(|s| s.is_empty()) {
            return Err("CLOUDINARY_ACCOUNT_URL has an empty key, secret or account id".into());
        }
        Ok(AccountKey {
            account_id: id.to_string(),
            key: key.to_string(),
            secret: Secret::new(secret),
        })
    }

    /// Loads the key kept in the data dir, creating one if absent.
    pub fn load_or_generate(data_dir: &Path) -> Result<AccountKey, String> {
        load_or_generate(&data_dir.join("provisioning.json"), || {
            let (key, secret) = crate::ids::key_pair();
            AccountKey {
                account_id: crate::ids::hex32(),
                key,
                secret: Secret::new(secret),
            }
        })
    }

    /// The line users paste into their SDK configuration.
    pub fn account_url(&self) -> String {
        format!(
            "account://{}:{}@{}",
            self.key, self.secret.0, self.account_id
        )
    }
}

/// Reads the JSON at `path`, or writes `make()` there (atomically) when there is none.
fn load_or_generate<T>(path: &Path, make: impl FnOnce() -> T) -> Result<T, String>
where
    T: Serialize + serde::de::DeserializeOwned,
{
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is damaged: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let value = make();
            let json = serde_json::to_vec_pretty(&value)
                .map_err(|e| format!("cannot encode {}: {e}", path.display()))?;
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, json)
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(value)
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_sdk_variable() {
        let a = Account::from_cloudinary_url("cloudinary://123:abc-DEF@demo?secure=true").unwrap();
        assert_eq!(a.cloud_name, "demo");
        assert_eq!(a.api_key, "123");
        assert_eq!(a.api_secret.expose(), "abc-DEF");
        assert!(
            !format!("{a:?}").contains("abc-DEF"),
            "secret must be redacted"
        );
    }

    #[test]
    fn refuses_malformed_variables() {
        for bad in [
            "http://1:2@demo",
            "cloudinary://12@demo",
            "cloudinary://1:2",
            "cloudinary://:2@demo",
            "cloudinary://1:2@de mo",
        ] {
            assert!(Account::from_cloudinary_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_credentials_survive_a_reload() {
        let dir = std::env::temp_dir().join(format!("kino-account-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = Account::load_or_generate(&dir).unwrap();
        let second = Account::load_or_generate(&dir).unwrap();
        assert_eq!(first.api_key, second.api_key);
        assert_eq!(first.api_secret, second.api_secret);
        assert_eq!(first.api_key.len(), 15);
        let key = AccountKey::load_or_generate(&dir).unwrap();
        assert_eq!(key.key, AccountKey::load_or_generate(&dir).unwrap().key);
        assert_eq!(key.account_id.len(), 32);
    }

    #[test]
    fn parses_the_account_variable() {
        let k = AccountKey::from_account_url("account://k1:s-2@acc-3").unwrap();
        assert_eq!((k.key.as_str(), k.secret.expose()), ("k1", "s-2"));
        assert_eq!(k.account_id, "acc-3");
        assert_eq!(k.account_url(), "account://k1:s-2@acc-3");
        for bad in [
            "cloudinary://a:b@c",
            "account://a@c",
            "account://a:b@",
            "account://:b@c",
        ] {
            assert!(AccountKey::from_account_url(bad).is_err(), "{bad}");
        }
    }
}
