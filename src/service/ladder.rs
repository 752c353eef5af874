//! A whole stream in one pass: every segment of every track (the ladder's renditions and the
//! audio) made by one run of the engine that decodes the source once and splits it to each
//! track's chain ([`crate::plan::merge`]). Eager streaming uses it: the files are the same
//! ones requests would make one track at a time (same ids, same time grid).
//!
//! A retried job resumes: the run starts at the first segment some track still lacks.

use std::io::{self, Write};
use std::sync::atomic::AtomicBool;

use super::streaming::{Stream, segment_file_row};
use super::{Kino, ServiceError};
use crate::catalog::{Asset, Derived};
use crate::error::ErrorKind;
use crate::streaming::ladder::{SEGMENT_SECONDS, Track};
use crate::streaming::segment::{self, Piece, Splitter};

/// One track of the run: its segment files, by index, and its initialization segment (when
/// the run starts at the beginning and makes it).
struct TrackFiles {
    init: Option<Derived>,
    segments: Vec<Derived>,
}

/// A track's transformation after the user's, and its container.
type TrackPlan = (crate::url::Transformation, &'static str);

impl Kino {
    /// Makes every segment (and initialization segment) of `stream` not yet stored.
    pub(super) async fn make_ladder(
        &self,
        asset: &Asset,
        stream: &Stream,
    ) -> Result<(), ServiceError> {
        let (files, tracks, first) = self.ladder_files(asset, stream).await?;
        if first >= stream.segments.len() {
            return Ok(());
        }
        let start = SEGMENT_SECONDS * first as f64;
        let mut plans = Vec::with_capacity(tracks.len());
        for (t, container) in &tracks {
            let run = segment::segment_transformation(&stream.user, t, start, None);
            let plan = self.plan_for(asset, &run, container).await?;
            plans.push(plan.into_segments(start, SEGMENT_SECONDS));
        }
        let merged = crate::plan::merge(plans)?;
        let _queued = self.queue_place(&asset.cloud)?;
        let _worker = self
            .derived
            .worker()
            .await
            .ok_or_else(|| ServiceError::Failed {
                kind: ErrorKind::Internal,
                message: "the engine is shutting down".into(),
            })?;
        let (cut, store) = tokio::sync::mpsc::channel::<(Derived, Vec<u8>)>(16);
        let writers: Vec<TrackWriter> = files
            .into_iter()
            .map(|mut files| {
                if first > 0 {
                    files.init = None;
                }
                TrackWriter {
                    splitter: Splitter::new(SEGMENT_SECONDS),
                    files,
                    cut: cut.clone(),
                }
            })
            .collect();
        drop(cut);
        let storing = tokio::spawn(self.clone().store_pieces(store));
        self.derived.count_run();
        let never = AtomicBool::new(false);
        let isolation = self.isolation.clone();
        let ran = tokio::task::spawn_blocking(move || match isolation {
            Some(isolation) => isolation.run_merged(&merged, writers, &never).map(|_| ()),
            None => crate::engine::run_merged(&merged, writers, &never).map(|_| ()),
        })
        .await;
        let stored = storing.await;
        let failed = |message: String, kind| ServiceError::Failed { kind, message };
        match ran {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(failed(format!("The transformation failed: {e}"), e.kind()));
            }
            Err(e) => {
                return Err(failed(
                    format!("the engine task failed: {e}"),
                    ErrorKind::Internal,
                ));
            }
        }
        match stored {
            Ok(None) => Ok(()),
            Ok(Some(e)) => Err(e),
            Err(e) => Err(failed(
                format!("storing segments failed: {e}"),
                ErrorKind::Internal,
            )),
        }
    }

    /// How much of `stream` is stored: the fraction of its pieces (every track's initialization
    /// segment and segments) that have a derived row.
    pub(super) async fn ladder_progress(
        &self,
        asset: &Asset,
        stream: &Stream,
    ) -> Result<f64, ServiceError> {
        let (files, _, _) = self.ladder_files(asset, stream).await?;
        let (mut stored, mut total) = (0usize, 0usize);
        for f in &files {
            for row in f.init.iter().chain(&f.segments) {
                total += 1;
                if self.catalog.find_derived(&row.id).await?.is_some() {
                    stored += 1;
                }
            }
        }
        Ok(if total == 0 {
            1.0
        } else {
            stored as f64 / total as f64
        })
    }

    /// Every track's files and plan, and the first segment some track lacks (where the run
    /// starts; 0 when an initialization segment is missing).
    async fn ladder_files(
        &self,
        asset: &Asset,
        stream: &Stream,
    ) -> Result<(Vec<TrackFiles>, Vec<TrackPlan>, usize), ServiceError> {
        let tracks: Vec<Track> = (0..stream.video.len())
            .map(Track::Video)
            .chain(stream.audio.map(|_| Track::Audio))
            .collect();
        let mut files = Vec::with_capacity(tracks.len());
        let mut plans = Vec::with_capacity(tracks.len());
        let mut first = stream.segments.len();
        for &track in &tracks {
            let rung = match track {
                Track::Video(i) => stream.video.get(i).map(|r| &r.transformation),
                Track::Audio => None,
            };
            let t = segment::track_transformation(rung);
            let container = segment::track_format(rung);
            let row = |i| segment_file_row(asset, stream, &t, container, i);
            let init = row(None);
            if self.catalog.find_derived(&init.id).await?.is_none() {
                first = 0;
            }
            let segments: Vec<Derived> = (0..stream.segments.len()).map(|i| row(Some(i))).collect();
            for (i, s) in segments.iter().enumerate().take(first) {
                if self.catalog.find_derived(&s.id).await?.is_none() {
                    first = i;
                    break;
                }
            }
            files.push(TrackFiles {
                init: Some(init),
                segments,
            });
            plans.push((t, container));
        }
        Ok((files, plans, first))
    }

    /// Stores the pieces a run cuts, as they come; the first failure, if any.
    async fn store_pieces(
        self,
        mut pieces: tokio::sync::mpsc::Receiver<(Derived, Vec<u8>)>,
    ) -> Option<ServiceError> {
        let mut failure = None;
        while let Some((mut row, bytes)) = pieces.recv().await {
            if let Err(e) = self.store_bytes(&mut row, &bytes).await {
                failure.get_or_insert(e);
            }
        }
        failure
    }

    /// Stages `bytes` and stores them as the derived file `row`.
    async fn store_bytes(&self, row: &mut Derived, bytes: &[u8]) -> Result<(), ServiceError> {
        let mut staged = self.staging.create(bytes.len() as u64).await?;
        staged.write(bytes).await?;
        staged.finish().await?;
        self.store_derived(staged, row).await
    }
}

/// The engine's sink for one track of a ladder run: cuts pieces and sends them to be stored.
struct TrackWriter {
    splitter: Splitter,
    files: TrackFiles,
    cut: tokio::sync::mpsc::Sender<(Derived, Vec<u8>)>,
}

impl Write for TrackWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for piece in self.splitter.feed(buf).map_err(io::Error::other)? {
            let (row, bytes) = match piece {
                Piece::Init(bytes) => match &self.files.init {
                    Some(row) => (row.clone(), bytes),
                    None => continue,
                },
                Piece::Segment { index, bytes } => match self.files.segments.get(index) {
                    Some(row) => (row.clone(), bytes),
                    None => continue,
                },
            };
            // Back-pressure: the engine waits while the store catches up.
            self.cut
                .blocking_send((row, bytes))
                .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "storing stopped"))?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
