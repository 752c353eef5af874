//! HLS version 3 (`fl_hlsv3`): MPEG-TS segments for players that take no fMP4, each holding
//! picture and sound. They are remuxed (no encoding) from the CMAF segments of the video
//! rendition and of the audio track — made and cached as for any other stream — so both
//! forms of a stream cost one encode, and every TS segment keeps its place on the timeline.

use std::path::PathBuf;

use super::streaming::{Stream, Streamed, segment_file_row};
use super::transform::Transformed;
use super::{Kino, ServiceError};
use crate::catalog::{Asset, Derived};
use crate::error::ErrorKind;
use crate::streaming::ladder::Track;
use crate::streaming::segment;

impl Kino {
    /// Segment `index` of video rendition `rendition` as MPEG-TS, with the audio track's
    /// segment of the same time.
    pub(super) async fn ts_segment(
        &self,
        asset: &Asset,
        stream: &Stream,
        rendition: usize,
        index: usize,
    ) -> Result<Streamed, ServiceError> {
        let mut tracks = vec![Track::Video(rendition)];
        if stream.audio.is_some() {
            tracks.push(Track::Audio);
        }
        let mut files = Vec::new();
        for track in tracks {
            let init = self.track_file(asset, stream, track, None).await?;
            let media = self.track_file(asset, stream, track, Some(index)).await?;
            files.push((init, media));
        }
        let staging = self.staging.dir().to_path_buf();
        let body = tokio::task::spawn_blocking(move || remux(&staging, &files))
            .await
            .map_err(|e| internal(e.to_string()))??;
        Ok(Streamed::Binary {
            body,
            content_type: "video/mp2t",
        })
    }

    /// Where a track's segment (`None`: its initialization segment) is stored, made first
    /// if needed.
    async fn track_file(
        &self,
        asset: &Asset,
        stream: &Stream,
        track: Track,
        index: Option<usize>,
    ) -> Result<PathBuf, ServiceError> {
        let made = match self.segment_file(asset, stream, track, index).await? {
            Streamed::File(made) => made,
            Streamed::Text { .. } | Streamed::Binary { .. } => {
                return Err(internal("a segment is a file".into()));
            }
        };
        let row: Derived = match made {
            Transformed::Stored(row) => row,
            live @ Transformed::Live { .. } => {
                super::eager::drain(live).await?;
                let rung = match track {
                    Track::Video(i) => stream.video.get(i).map(|r| &r.transformation),
                    Track::Audio => None,
                };
                let t = segment::track_transformation(rung);
                let id = segment_file_row(asset, stream, &t, segment::track_format(rung), index).id;
                self.catalog
                    .find_derived(&id)
                    .await?
                    .ok_or_else(|| internal("the segment was not stored".into()))?
            }
        };
        Ok(self.store.local_copy(&row.blob_key).await?)
    }
}

/// Joins each (init, media) pair into a playable fragment and remuxes them all into one
/// MPEG-TS segment.
fn remux(staging: &std::path::Path, files: &[(PathBuf, PathBuf)]) -> Result<Vec<u8>, ServiceError> {
    let tag = rand::random::<u32>();
    let mut joined = Vec::new();
    let result = (|| {
        for (k, (init, media)) in files.iter().enumerate() {
            let path = staging.join(format!("ts-{tag}-{k}.mp4"));
            let mut bytes = std::fs::read(init).map_err(|e| internal(e.to_string()))?;
            bytes.extend(std::fs::read(media).map_err(|e| internal(e.to_string()))?);
            std::fs::write(&path, bytes).map_err(|e| internal(e.to_string()))?;
            joined.push(path);
        }
        let out = staging.join(format!("ts-{tag}.ts"));
        let inputs: Vec<&std::path::Path> = joined.iter().map(PathBuf::as_path).collect();
        let made = crate::engine::remux_many(&inputs, &out, "mpegts")
            .map_err(|e| internal(format!("remuxing to MPEG-TS: {e}")))
            .and_then(|()| std::fs::read(&out).map_err(|e| internal(e.to_string())));
        let _ = std::fs::remove_file(&out);
        made
    })();
    for path in &joined {
        let _ = std::fs::remove_file(path);
    }
    result
}

fn internal(message: String) -> ServiceError {
    ServiceError::Failed {
        kind: ErrorKind::Internal,
        message,
    }
}
