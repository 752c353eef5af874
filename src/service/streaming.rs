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

/// Whether `.mpd` is answered. The MPD writer is done, but DASH readers want audio and video
/// in separate adaptation sets, and the segments here carry both: not served until they are
/// split.
const DASH_SERVED: bool = false;

/// What a request for an adaptive stream asks for (from `?r=`, `&s=`, `&init=1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamPart {
    /// The multivariant playlist or the MPD.
    Manifest,
    /// Rendition `r`'s media playlist (HLS).
    Playlist { rendition: usize },
    /// Rendition `r`'s initialization segment.
    Init { rendition: usize },
    /// Segment `s` (from 0) of rendition `r`.
    Segment { rendition: usize, segment: usize },
}

/// What every request of one stream shares.
struct Ladder {
    user: Transformation,
    name: String,
    ladder: Vec<crate::streaming::ladder::Rendition>,
    segments: Vec<f64>,
}

/// The answer to a stream request: a manifest made now, or a segment (a derived file).
#[derive(Debug)]
pub enum Streamed {
    Text {
        body: String,
        content_type: &'static str,
    },
    File(crate::service::transform::Transformed),
}

impl Kino {
    /// Serves `sp_<profile>/…/<id>.m3u8|.mpd` and the playlists and segments they name.
    /// Manifests come from the catalog's probe facts; segments are made on demand (each
    /// rendition encoded with a keyframe at every segment start) and cached as derived files.
    pub async fn stream(
        &self,
        path: &crate::url::DeliveryPath,
        asset: &crate::catalog::Asset,
        part: StreamPart,
    ) -> Result<Streamed, ServiceError> {
        use crate::streaming::{dash, hls};
        let ext = path.extension.as_deref().unwrap_or_default();
        let Ladder {
            user,
            name,
            ladder,
            segments,
        } = self.ladder_of(path, asset).await?;
        // Relative URIs: playlists `<id>.m3u8?r=`, media `<id>.mp4?r=&s=` (an extension every
        // player and demuxer accepts for fragmented MP4).
        let base = asset.public_id.rsplit('/').next().unwrap_or_default();
        let playlist = format!("{base}.m3u8");
        let media_file = format!("{base}.mp4");
        let rung = |r: usize| {
            ladder.get(r).ok_or_else(|| {
                ServiceError::NotFound(format!("Rendition {r} not found in profile {name}"))
            })
        };
        match (part, ext) {
            (StreamPart::Manifest, "mp4") => Err(ServiceError::BadInput(
                "Streaming profile not supported for non-streaming formats".into(),
            )),
            (StreamPart::Manifest, "m3u8") => Ok(Streamed::Text {
                body: hls::multivariant(&ladder, |r| format!("{playlist}?r={r}")),
                content_type: "application/vnd.apple.mpegurl",
            }),
            (StreamPart::Manifest, _) if DASH_SERVED => Ok(Streamed::Text {
                body: dash::mpd(
                    &ladder,
                    &segments,
                    &format!("{media_file}?r=$RepresentationID$&init=1"),
                    &format!("{media_file}?r=$RepresentationID$&s=$Number$"),
                ),
                content_type: "application/dash+xml",
            }),
            (StreamPart::Manifest, _) => Err(ServiceError::BadInput(
                "DASH (.mpd) is not served yet; use .m3u8 (HLS)".into(),
            )),
            (StreamPart::Playlist { rendition }, _) => {
                rung(rendition)?;
                Ok(Streamed::Text {
                    body: hls::media(
                        &segments,
                        &format!("{media_file}?r={rendition}&init=1"),
                        |s| format!("{media_file}?r={rendition}&s={s}"),
                    ),
                    content_type: "application/vnd.apple.mpegurl",
                })
            }
            (StreamPart::Init { rendition }, _) => {
                let r = rung(rendition)?;
                self.segment_file(asset, &user, r, &segments, 0, crate::plan::Fragment::Init)
                    .await
            }
            (StreamPart::Segment { rendition, segment }, _) => {
                let r = rung(rendition)?;
                if segment >= segments.len() {
                    return Err(ServiceError::NotFound(format!(
                        "Segment {segment} not found"
                    )));
                }
                self.segment_file(
                    asset,
                    &user,
                    r,
                    &segments,
                    segment,
                    crate::plan::Fragment::Media,
                )
                .await
            }
        }
    }

    /// The user's transformation, the profile's ladder for this asset and its segments.
    async fn ladder_of(
        &self,
        path: &crate::url::DeliveryPath,
        asset: &crate::catalog::Asset,
    ) -> Result<Ladder, ServiceError> {
        use crate::streaming::{ladder, segment};
        let ext = path.extension.as_deref().unwrap_or_default();
        let user = self.expand_named(&path.cloud, &path.transformation).await?;
        let name = segment::profile_name(&user).ok_or_else(|| {
            ServiceError::BadInput(format!("A streaming profile (sp_) is required for .{ext}"))
        })?;
        // sp_auto: the hd ladder, cut to the source by the no-upscaling rule.
        let name = if name == "auto" { "hd" } else { name }.to_string();
        let profile = self.streaming_profile(&path.cloud, &name).await?;
        let media = asset
            .media
            .as_ref()
            .filter(|m| m.video.is_some())
            .map(crate::service::transform::media_of)
            .ok_or_else(|| {
                ServiceError::BadInput(format!("{} has no video to stream", asset.public_id))
            })?;
        Ok(Ladder {
            ladder: ladder::renditions(&profile.representations, &media),
            segments: ladder::segments(media.duration),
            user,
            name,
        })
    }

    async fn segment_file(
        &self,
        asset: &crate::catalog::Asset,
        user: &Transformation,
        rung: &crate::streaming::ladder::Rendition,
        segments: &[f64],
        index: usize,
        part: crate::plan::Fragment,
    ) -> Result<Streamed, ServiceError> {
        use crate::streaming::{ladder::SEGMENT_SECONDS, segment};
        let start = SEGMENT_SECONDS * index as f64;
        let duration = segments.get(index).copied().unwrap_or(SEGMENT_SECONDS);
        let t = segment::segment_transformation(user, &rung.transformation, start, duration);
        let (format, label) = match part {
            crate::plan::Fragment::Init => ("mp4", "init"),
            crate::plan::Fragment::Media => ("m4s", "media"),
        };
        let shown = format!("{t}/{label}");
        let id = crate::derived::derived_id(&asset.asset_id, asset.version, &shown, format);
        let plan = Box::pin(async move {
            let plan = self.plan_for(asset, &t, "mp4").await?;
            Ok(plan.into_segment(start, SEGMENT_SECONDS, part))
        });
        let made = self
            .derive(asset, &id, shown.clone(), format.to_string(), plan)
            .await?;
        Ok(Streamed::File(made))
    }
}
