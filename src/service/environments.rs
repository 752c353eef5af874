//! Product environments: several clouds in one Kino, each with its own keys, assets and
//! settings, managed through the Provisioning API's `sub_accounts` endpoints.
//!
//! Every request names its cloud; [`Kino::environment`] turns the name into the environment
//! (the primary one from memory, the others from the catalog, so every node sees a change at
//! once) and refuses unknown and disabled ones. The primary environment is the one
//! `CLOUDINARY_URL` names: it cannot be renamed, disabled or deleted.

use chrono::Utc;
use serde_json::{Map, Value};

use super::{Kino, ServiceError};
use crate::catalog::Environment;

/// Longest cloud name accepted.
const MAX_CLOUD_NAME: usize = 64;

/// Which environments a listing shows.
#[derive(Debug, Default)]
pub struct EnvironmentFilter {
    pub enabled: Option<bool>,
    /// When not empty, only these ids (the other filters are ignored).
    pub ids: Vec<String>,
    /// Case-insensitive prefix of the name.
    pub prefix: Option<String>,
}

/// What a creation or an update sets; `None` keeps (or, on creation, defaults).
#[derive(Debug, Default)]
pub struct EnvironmentChange {
    pub name: Option<String>,
    pub cloud_name: Option<String>,
    pub custom_attributes: Option<Map<String, Value>>,
    pub enabled: Option<bool>,
}

impl Kino {
    /// The environment serving `cloud`, when it may be used.
    pub async fn environment(&self, cloud: &str) -> Result<Environment, ServiceError> {
        if cloud == self.primary.cloud {
            return Ok(Environment::clone(&self.primary));
        }
        match self.catalog.environment_by_cloud(cloud).await? {
            Some(env) if env.enabled => Ok(env),
            Some(_) => Err(ServiceError::Forbidden(format!(
                "Product environment {cloud} is disabled"
            ))),
            None => Err(ServiceError::Unauthorized(format!(
                "Invalid cloud_name {cloud}"
            ))),
        }
    }

    /// The environment with id `id`, enabled or not.
    pub async fn environment_by_id(&self, id: &str) -> Result<Environment, ServiceError> {
        self.catalog
            .environment_by_id(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("Unknown product environment {id}")))
    }

    pub async fn environments(
        &self,
        filter: &EnvironmentFilter,
    ) -> Result<Vec<Environment>, ServiceError> {
        let all = self.catalog.list_environments().await?;
        if !filter.ids.is_empty() {
            return Ok(all
                .into_iter()
                .filter(|e| filter.ids.contains(&e.id))
                .collect());
        }
        let prefix = filter.prefix.as_deref().map(str::to_lowercase);
        Ok(all
            .into_iter()
            .filter(|e| filter.enabled.is_none_or(|on| e.enabled == on))
            .filter(|e| {
                prefix
                    .as_deref()
                    .is_none_or(|p| e.name.to_lowercase().starts_with(p))
            })
            .collect())
    }

    /// Makes an environment with a fresh main key; with `base`, it starts with a copy of that
    /// environment's settings (presets, named transformations, streaming profiles, metadata
    /// fields, upload mappings).
    pub async fn create_environment(
        &self,
        change: EnvironmentChange,
        base: Option<&str>,
    ) -> Result<Environment, ServiceError> {
        let name = change
            .name
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ServiceError::BadInput("Missing required parameter - name".into()))?;
        let cloud = match change.cloud_name {
            Some(c) => checked_cloud_name(&c)?,
            None => generated_cloud_name(&name),
        };
        let base = match base {
            Some(id) => Some(self.environment_by_id(id).await?),
            None => None,
        };
        let (api_key, api_secret) = crate::ids::key_pair();
        let now = Utc::now();
        let env = Environment {
            id: crate::ids::hex32(),
            cloud,
            name,
            enabled: change.enabled.unwrap_or(true),
            primary: false,
            custom_attributes: change.custom_attributes.unwrap_or_default(),
            api_key,
            api_secret,
            created_at: now,
            updated_at: now,
        };
        self.catalog.insert_environment(&env).await?;
        if let Some(base) = base {
            self.catalog.copy_settings(&base.cloud, &env.cloud).await?;
        }
        tracing::info!(cloud = %env.cloud, id = %env.id, "product environment created");
        Ok(env)
    }

    /// Renames, enables or disables an environment, or changes its attributes. A new cloud
    /// name moves all its assets and settings with it (old URLs stop working).
    pub async fn update_environment(
        &self,
        id: &str,
        change: EnvironmentChange,
    ) -> Result<Environment, ServiceError> {
        let mut env = self.environment_by_id(id).await?;
        let was = env.cloud.clone();
        if let Some(cloud) = change.cloud_name {
            env.cloud = checked_cloud_name(&cloud)?;
        }
        if let Some(on) = change.enabled {
            env.enabled = on;
        }
        if env.primary && (env.cloud != was || !env.enabled) {
            return Err(ServiceError::BadInput(format!(
                "{was} is the primary product environment (CLOUDINARY_URL): \
                 it cannot be renamed or disabled"
            )));
        }
        if let Some(name) = change.name {
            if name.trim().is_empty() {
                return Err(ServiceError::BadInput("name must not be empty".into()));
            }
            env.name = name;
        }
        if let Some(attributes) = change.custom_attributes {
            env.custom_attributes = attributes;
        }
        env.updated_at = Utc::now();
        self.catalog.update_environment(&env, &was).await?;
        Ok(env)
    }

    /// Deletes an environment with everything in it: assets and their versions, derived
    /// files, settings, keys and live streams.
    pub async fn delete_environment(&self, id: &str) -> Result<(), ServiceError> {
        let env = self.environment_by_id(id).await?;
        if env.primary {
            return Err(ServiceError::BadInput(format!(
                "{} is the primary product environment (CLOUDINARY_URL): it cannot be deleted",
                env.cloud
            )));
        }
        let blobs = self.catalog.delete_environment(&env).await?;
        for key in &blobs {
            self.discard_blob(key).await;
        }
        tracing::info!(cloud = %env.cloud, id = %env.id, blobs = blobs.len(), "product environment deleted");
        Ok(())
    }
}

/// A cloud name as given, lower-cased: letters, digits, `-` and `_`.
fn checked_cloud_name(raw: &str) -> Result<String, ServiceError> {
    let cloud = raw.trim().to_ascii_lowercase();
    let valid = !cloud.is_empty()
        && cloud.len() <= MAX_CLOUD_NAME
        && cloud
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(cloud)
    } else {
        Err(ServiceError::BadInput(format!(
            "Invalid cloud_name {raw:?}: use 1 to {MAX_CLOUD_NAME} letters, digits, '-' and '_'"
        )))
    }
}

/// A cloud name made from an environment's name and a random suffix (`Product 1` →
/// `product-1-3f9a2c`).
fn generated_cloud_name(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(40).collect();
    let suffix = &crate::ids::hex32()[..6];
    if slug.is_empty() {
        format!("env-{suffix}")
    } else {
        format!("{}-{suffix}", slug.trim_end_matches('-'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_names_are_checked_and_generated() {
        assert_eq!(checked_cloud_name(" Shop_EU-1 ").unwrap(), "shop_eu-1");
        for bad in ["", "a b", "a/b", "é", &"x".repeat(65)] {
            assert!(checked_cloud_name(bad).is_err(), "{bad:?}");
        }
        let made = generated_cloud_name("My Product (EU)");
        assert!(made.starts_with("my-product-eu-"), "{made}");
        assert_eq!(made.len(), "my-product-eu-".len() + 6);
        assert!(generated_cloud_name("***").starts_with("env-"));
        for name in ["My Product (EU)", "***", &"long name ".repeat(20)] {
            let made = generated_cloud_name(name);
            assert!(checked_cloud_name(&made).is_ok(), "{made}");
        }
    }
}
