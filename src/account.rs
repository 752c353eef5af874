//! The account: cloud name plus API key and secret.
//!
//! It comes from `CLOUDINARY_URL=cloudinary://KEY:SECRET@CLOUD`, the same variable the SDKs
//! read, so one line configures both sides. Without it, Kino generates credentials on first
//! start and keeps them in `{data_dir}/account.json`, so restarts keep working clients.

use std::fmt;
use std::path::Path;

use rand::Rng;
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
        let path = data_dir.join("account.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{} is damaged: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let account = Account::generate();
                let json = serde_json::to_vec_pretty(&account)
                    .map_err(|e| format!("cannot encode account: {e}"))?;
                let tmp = data_dir.join("account.json.tmp");
                std::fs::write(&tmp, json)
                    .and_then(|()| std::fs::rename(&tmp, &path))
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Ok(account)
            }
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    fn generate() -> Account {
        let mut rng = rand::thread_rng();
        let api_key: String = (0..15)
            .map(|_| rng.gen_range(b'0'..=b'9') as char)
            .collect();
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let secret: String = (0..27)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
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
    }
}
