//! Segment runs: one engine run makes consecutive segments of one track of a stream, so a
//! player reading a rendition in order costs one seek, one decoder and one encoder warm-up
//! per run rather than per segment, and the audio track carries no encoder priming at every
//! boundary.
//!
//! A request for a segment that is neither stored nor being made joins a run that is about to
//! reach it (and pushes how far that run goes) or starts a run at that segment. A run makes
//! [`AHEAD`] segments past the furthest one asked for, then stops. Every segment a run will
//! make is a flight registered with the derived cache before the run gets there, so its
//! readers wait on it like on any transformation. The segment files do not depend on which
//! run made them: IDRs and fragments fall on the fixed time grid and each fragment carries its
//! place on the timeline (`tfdt`), so the pieces of different runs play as one stream.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::transform::{Transformed, failed, follow, too_large};
use super::{Kino, ServiceError};
use crate::catalog::{Asset, Derived};
use crate::derived::{self, Flight, FlightWriter, State};
use crate::error::ErrorKind;
use crate::plan::Plan;
use crate::streaming::segment::{Piece, Splitter};

/// Segments a run makes beyond the furthest one asked for.
pub const AHEAD: usize = 3;

/// How far past a run's last planned segment a request may be and still join it.
const JOIN: usize = 2;

/// The runs in progress, by track.
#[derive(Debug, Clone, Default)]
pub struct Runs {
    by_track: Arc<Mutex<HashMap<String, Vec<Arc<Run>>>>>,
}

/// One run: what it still has to make.
#[derive(Debug, Default)]
struct Run {
    state: Mutex<RunState>,
}

#[derive(Debug, Default)]
struct RunState {
    /// The first segment the run has not cut yet.
    next: usize,
    /// Segments it will make, by index: contiguous from `next`.
    pending: BTreeMap<usize, Pending>,
    /// The initialization segment, when it is wanted from this run.
    init: Option<Pending>,
    /// Takes no more segments.
    closed: bool,
}

/// A segment a run will make: its flight, the writer the run fills it with, its row.
#[derive(Debug)]
pub(super) struct Pending {
    flight: Arc<Flight>,
    writer: FlightWriter,
    row: Derived,
}

/// Which segment of a track a request wants, with the derived file that holds it.
#[derive(Debug, Clone)]
pub(super) struct Wanted {
    /// `None` for the initialization segment.
    pub index: Option<usize>,
    pub row: Derived,
}

/// What a run needs to start: the track's key, its segment files and how to plan it.
pub(super) struct RunSpec<'a> {
    /// Names the track (asset, version, transformation): runs of one track can join.
    pub track: String,
    pub segments: usize,
    /// The derived row of segment `i` (`None`: the initialization segment).
    pub row: &'a (dyn Fn(Option<usize>) -> Derived + Sync),
    /// The plan of a run starting at segment `i`.
    pub plan: &'a (dyn Fn(usize) -> PlanFuture<'a> + Sync),
}

pub(super) type PlanFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Plan, ServiceError>> + Send + 'a>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Kino {
    /// The segment `wanted` of a track: joins the run about to make it or starts one.
    pub(super) async fn run_segment(
        &self,
        spec: RunSpec<'_>,
        wanted: Wanted,
    ) -> Result<Transformed, ServiceError> {
        let format = wanted.row.format.clone();
        let first = wanted.index.unwrap_or(0);
        // Up to AHEAD more, stopping short of one already stored (an earlier run made it).
        let mut last = (first + AHEAD).min(spec.segments.saturating_sub(1));
        for i in first + 1..=last {
            if self
                .catalog
                .find_derived(&(spec.row)(Some(i)).id)
                .await?
                .is_some()
            {
                last = i - 1;
                break;
            }
        }
        if let Some(flight) = self.join_run(&spec, &wanted, last) {
            return follow(&flight, format).await;
        }
        let queued = self.queue_place(&wanted.row.cloud)?;
        // The wanted piece first: when another flight makes it, nothing else is registered.
        let Some(mine) = self.pending(&wanted.row) else {
            return match self.derived.running(&wanted.row.id) {
                Some(other) => follow(&other, format).await,
                None => Err(ServiceError::Busy(
                    "The segment is being made; try again shortly".into(),
                )),
            };
        };
        let flight = mine.flight.clone();
        let run = Arc::new(Run::default());
        {
            let mut state = lock(&run.state);
            state.next = first;
            let from = match wanted.index {
                None => {
                    state.init = Some(mine);
                    first
                }
                Some(i) => {
                    state.pending.insert(i, mine);
                    i + 1
                }
            };
            for i in from..=last {
                match self.pending(&(spec.row)(Some(i))) {
                    Some(p) => {
                        state.pending.insert(i, p);
                    }
                    None => break,
                }
            }
        }
        lock(&self.runs.by_track)
            .entry(spec.track.clone())
            .or_default()
            .push(run.clone());
        let plan = (spec.plan)(first).await;
        self.derived.count_run();
        let kino = self.clone();
        let track = spec.track.clone();
        tokio::spawn(async move {
            let _queued = queued;
            let outcome = match plan {
                Ok(plan) => kino.drive(&run, plan).await,
                Err(e) => Err((e.kind(), e.to_string())),
            };
            kino.end_run(&track, &run, outcome);
        });
        follow(&flight, format).await
    }

    /// Pushes a run that is about to reach the wanted segment to make it (and [`AHEAD`]
    /// more); the wanted segment's flight.
    fn join_run(&self, spec: &RunSpec<'_>, wanted: &Wanted, last: usize) -> Option<Arc<Flight>> {
        let runs = lock(&self.runs.by_track).get(&spec.track).cloned()?;
        let index = wanted.index?;
        for run in runs {
            let mut state = lock(&run.state);
            let planned = state
                .pending
                .keys()
                .next_back()
                .copied()
                .unwrap_or(state.next);
            if state.closed || index < state.next || index > planned + JOIN {
                continue;
            }
            for i in planned + 1..=last {
                match self.pending(&(spec.row)(Some(i))) {
                    Some(p) => {
                        state.pending.insert(i, p);
                    }
                    None => break,
                }
            }
            if let Some(p) = state.pending.get(&index) {
                return Some(p.flight.clone());
            }
        }
        None
    }

    /// A new flight for `row`, registered with the derived cache; `None` when another flight
    /// already makes it.
    fn pending(&self, row: &Derived) -> Option<Pending> {
        let staging =
            self.staging
                .dir()
                .join(format!("segment-{}-{}.part", row.id, rand::random::<u32>()));
        let (flight, writer) = Flight::create(staging, self.limits.max_output_bytes).ok()?;
        if self.derived.register(&row.id, flight.clone()).is_err() {
            let _ = std::fs::remove_file(&flight.path);
            return None;
        }
        Some(Pending {
            flight,
            writer,
            row: row.clone(),
        })
    }

    /// Runs the engine for a run, storing each segment as it is cut.
    async fn drive(&self, run: &Arc<Run>, plan: Plan) -> Result<(), (ErrorKind, String)> {
        let Some(_worker) = self.derived.worker().await else {
            return Err((ErrorKind::Internal, "the engine is shutting down".into()));
        };
        let every = plan.segments.map_or(4.0, |s| s.every);
        let (cut, mut store) = tokio::sync::mpsc::unbounded_channel::<(Pending, Option<String>)>();
        let stopped = Arc::new(AtomicBool::new(false));
        let writer = RunWriter {
            splitter: Splitter::new(every),
            run: run.clone(),
            cut,
            stopped: stopped.clone(),
        };
        let kino = self.clone();
        let storing = tokio::spawn(async move {
            while let Some((p, write_error)) = store.recv().await {
                let id = p.row.id.clone();
                let flight = p.flight.clone();
                let state = match write_error {
                    None => kino.store_segment(p).await,
                    Some(_) if p.flight.over_limit() => {
                        let _ = std::fs::remove_file(&p.flight.path);
                        failed(ErrorKind::TooLarge, &too_large(p.flight.max_bytes))
                    }
                    Some(e) => {
                        let _ = std::fs::remove_file(&p.flight.path);
                        failed(ErrorKind::Internal, &format!("writing a segment: {e}"))
                    }
                };
                flight.finish(state);
                kino.derived.forget(&id);
            }
        });
        let never = AtomicBool::new(false);
        let isolation = self.isolation.clone();
        let ran = tokio::task::spawn_blocking(move || {
            super::transform::run_plan(isolation.as_deref(), &plan, writer, &never)
        })
        .await;
        let _ = storing.await;
        match ran {
            Ok(Ok(_)) => Ok(()),
            // The run stopped itself: it had made every segment it was asked for.
            Ok(Err(_)) if stopped.load(Ordering::Relaxed) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "segment run failed");
                Err((e.kind(), format!("The transformation failed: {e}")))
            }
            Err(e) => Err((ErrorKind::Internal, format!("the engine task failed: {e}"))),
        }
    }

    async fn store_segment(&self, p: Pending) -> State {
        let synced = tokio::task::spawn_blocking(move || {
            let r = p.writer.sync();
            (p, r)
        })
        .await;
        let Ok((mut p, Ok(()))) = synced else {
            return failed(ErrorKind::Internal, "writing a segment failed");
        };
        match self.store_flight(&p.flight, None, &mut p.row).await {
            Ok(()) => State::Done,
            Err(e) => {
                let _ = std::fs::remove_file(&p.flight.path);
                tracing::warn!(error = %e, id = p.row.id, "storing a segment failed");
                failed(ErrorKind::Internal, "storing the segment failed")
            }
        }
    }

    /// Closes a run: segments it did not get to fail (their readers get the reason), and it
    /// leaves the registry.
    fn end_run(&self, track: &str, run: &Arc<Run>, outcome: Result<(), (ErrorKind, String)>) {
        let leftovers: Vec<Pending> = {
            let mut state = lock(&run.state);
            state.closed = true;
            let mut left: Vec<Pending> = std::mem::take(&mut state.pending).into_values().collect();
            left.extend(state.init.take());
            left
        };
        let (kind, message) = outcome.err().unwrap_or((
            ErrorKind::BadInput,
            "The stream ends before this segment".into(),
        ));
        for p in leftovers {
            let _ = std::fs::remove_file(&p.flight.path);
            p.flight.finish(failed(kind, &message));
            self.derived.forget(&p.row.id);
        }
        let mut runs = lock(&self.runs.by_track);
        if let Some(list) = runs.get_mut(track) {
            list.retain(|r| !Arc::ptr_eq(r, run));
            if list.is_empty() {
                runs.remove(track);
            }
        }
    }
}

/// The engine's sink for a run: cuts the output into pieces and hands each to its flight.
struct RunWriter {
    splitter: Splitter,
    run: Arc<Run>,
    /// Cut pieces (with the error writing them, if any), to be stored.
    cut: tokio::sync::mpsc::UnboundedSender<(Pending, Option<String>)>,
    /// Set when the run stops itself (nothing more was asked of it).
    stopped: Arc<AtomicBool>,
}

impl RunWriter {
    /// The flight a piece goes to (`None`: a piece nobody asked for, such as the header of a
    /// run that does not make the initialization segment); `Err` once the run has made
    /// everything asked of it.
    fn claim(&self, piece: &Piece) -> io::Result<Option<Pending>> {
        let mut state = lock(&self.run.state);
        if let Piece::Segment { index, .. } = piece {
            tracing::debug!(index, next = state.next, "segment cut");
        }
        let claimed = match piece {
            Piece::Init(_) => state.init.take(),
            Piece::Segment { index, .. } => match state.pending.remove(index) {
                Some(p) => {
                    state.next = index + 1;
                    Some(p)
                }
                None if *index >= state.next => {
                    state.closed = true;
                    self.stopped.store(true, Ordering::Relaxed);
                    return Err(io::Error::new(io::ErrorKind::BrokenPipe, "run complete"));
                }
                None => None,
            },
        };
        // Nothing left to make: no one may join any more, and the next write stops the run.
        if state.pending.is_empty() && state.init.is_none() {
            state.closed = true;
        }
        Ok(claimed)
    }
}

impl Write for RunWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if lock(&self.run.state).closed {
            self.stopped.store(true, Ordering::Relaxed);
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "run complete"));
        }
        let pieces = self.splitter.feed(buf).map_err(io::Error::other)?;
        for piece in pieces {
            let Some(mut p) = self.claim(&piece)? else {
                continue;
            };
            let bytes = match &piece {
                Piece::Init(b) | Piece::Segment { bytes: b, .. } => b,
            };
            // A segment is kept for the cache even when its readers left.
            p.flight.cancel.store(false, Ordering::Relaxed);
            let error = p.writer.write_all(bytes).err().map(|e| e.to_string());
            let _ = self.cut.send((p, error));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The derived row a segment file gets.
pub(super) fn segment_row(asset: &Asset, id: &str, shown: String, format: &str) -> Derived {
    Derived {
        id: id.to_string(),
        cloud: asset.cloud.clone(),
        asset_id: asset.asset_id.clone(),
        version: asset.version,
        transformation: shown,
        format: format.to_string(),
        blob_key: derived::blob_key(&asset.asset_id, id, format),
        bytes: 0,
        etag: String::new(),
        created_at: chrono::Utc::now(),
    }
}
