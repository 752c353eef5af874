//! Streaming profiles as the Admin API sees them: the built-ins from `profiles/`, overridden
//! by stored rows of the same name, plus custom profiles.

use super::{Kino, ServiceError};
use crate::catalog::StoredProfile;
use crate::streaming::profiles::{self, Profile};
use crate::url::Transformation;

/// Names: letters, digits, `_` and `-` (they appear in URLs as `sp_<name>`).
fn check_name(name: &str) -> Result<(), ServiceError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ServiceError::BadInput(format!(
            "Invalid streaming profile name {name:?}: use letters, digits, _ and -"
        )))
    }
}

fn from_stored(s: StoredProfile) -> Result<Profile, ServiceError> {
    let representations = s
        .representations
        .iter()
        .map(|t| Transformation::parse_str(t))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Profile {
        predefined: profiles::find_built_in(&s.name).is_some(),
        name: s.name,
        display_name: s.display_name,
        representations,
    })
}

impl Kino {
    /// Every profile: built-ins (as changed, if they were) then custom ones, by name.
    pub async fn streaming_profiles(&self, cloud: &str) -> Result<Vec<Profile>, ServiceError> {
        let stored = self.catalog.list_streaming_profiles(cloud).await?;
        let mut out = Vec::new();
        for built_in in profiles::built_in() {
            match stored.iter().find(|s| s.name == built_in.name) {
                Some(s) => out.push(from_stored(s.clone())?),
                None => out.push(built_in),
            }
        }
        for s in stored {
            if profiles::find_built_in(&s.name).is_none() {
                out.push(from_stored(s)?);
            }
        }
        Ok(out)
    }

    pub async fn streaming_profile(
        &self,
        cloud: &str,
        name: &str,
    ) -> Result<Profile, ServiceError> {
        if let Some(s) = self.catalog.find_streaming_profile(cloud, name).await? {
            return from_stored(s);
        }
        profiles::find_built_in(name)
            .ok_or_else(|| ServiceError::NotFound(format!("Streaming profile {name} not found")))
    }

    /// Creates a custom profile (a built-in's name is taken).
    pub async fn create_streaming_profile(
        &self,
        cloud: &str,
        name: &str,
        display_name: Option<String>,
        representations: &serde_json::Value,
    ) -> Result<Profile, ServiceError> {
        check_name(name)?;
        if profiles::find_built_in(name).is_some() {
            return Err(ServiceError::Catalog(
                crate::catalog::CatalogError::AlreadyExists(format!("Streaming profile {name}")),
            ));
        }
        let reps =
            profiles::parse_representations(representations).map_err(ServiceError::BadInput)?;
        let profile = Profile {
            name: name.to_string(),
            display_name,
            predefined: false,
            representations: reps,
        };
        self.catalog
            .put_streaming_profile(cloud, &stored(&profile), true)
            .await?;
        Ok(profile)
    }

    /// Changes a profile's display name and/or ladder (a built-in's change is stored as an
    /// override).
    pub async fn update_streaming_profile(
        &self,
        cloud: &str,
        name: &str,
        display_name: Option<String>,
        representations: Option<&serde_json::Value>,
    ) -> Result<Profile, ServiceError> {
        let mut profile = self.streaming_profile(cloud, name).await?;
        if let Some(d) = display_name {
            profile.display_name = Some(d);
        }
        if let Some(r) = representations {
            profile.representations =
                profiles::parse_representations(r).map_err(ServiceError::BadInput)?;
        }
        self.catalog
            .put_streaming_profile(cloud, &stored(&profile), false)
            .await?;
        Ok(profile)
    }

    /// Deletes a custom profile; predefined ones cannot be deleted.
    pub async fn delete_streaming_profile(
        &self,
        cloud: &str,
        name: &str,
    ) -> Result<(), ServiceError> {
        if profiles::find_built_in(name).is_some() {
            return Err(ServiceError::BadInput(format!(
                "Streaming profile {name} is predefined and cannot be deleted"
            )));
        }
        if self.catalog.delete_streaming_profile(cloud, name).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!(
                "Streaming profile {name} not found"
            )))
        }
    }
}

fn stored(p: &Profile) -> StoredProfile {
    StoredProfile {
        name: p.name.clone(),
        display_name: p.display_name.clone(),
        representations: p.representation_texts(),
    }
}
