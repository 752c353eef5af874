//! Derived files: transformation outputs cached in the blob store, made once however many
//! requests ask at the same time.
//!
//! [`Cache`] holds the flights in progress (single-flight by derived id) and the two limits
//! that keep the engine from piling up work: a worker permit per core, and a bounded queue
//! in front of them. When the queue is full a request is refused at once (503) instead of
//! waiting without bound. The rows themselves live in the catalog (`catalog::Derived`).

mod flight;

pub use flight::{Flight, FlightWriter, Follower, Progress, State};

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Flights in progress and the engine's limits.
#[derive(Debug, Clone)]
pub struct Cache {
    flights: Arc<Mutex<HashMap<String, Arc<Flight>>>>,
    /// Derived ids this node holds a catalog claim on (`service::claims`).
    claimed: Arc<Mutex<HashSet<String>>>,
    workers: Arc<Semaphore>,
    queue: Arc<Semaphore>,
    /// Places each account (cloud) holds in the queue, and the most one may hold (0: no
    /// limit but the queue's).
    accounts: Arc<Mutex<HashMap<String, usize>>>,
    account_limit: usize,
    /// Engine runs started since the process began (`/metrics`).
    runs: Arc<AtomicU64>,
    workers_total: usize,
    queue_total: usize,
}

impl Cache {
    /// `workers` transformations run at once; `queue` more may wait; one account may hold at
    /// most `account_limit` of those places (0: no limit of its own).
    pub fn new(workers: usize, queue: usize, account_limit: usize) -> Cache {
        Cache {
            flights: Arc::default(),
            claimed: Arc::default(),
            workers: Arc::new(Semaphore::new(workers.max(1))),
            queue: Arc::new(Semaphore::new(workers.max(1) + queue)),
            accounts: Arc::default(),
            account_limit,
            runs: Arc::default(),
            workers_total: workers.max(1),
            queue_total: workers.max(1) + queue,
        }
    }

    /// Counts an engine run about to start.
    pub fn count_run(&self) {
        self.runs.fetch_add(1, Ordering::Relaxed);
    }

    /// What `/metrics` shows: runs started, workers busy, places taken in the queue, flights.
    pub fn gauges(&self) -> Gauges {
        Gauges {
            runs_started: self.runs.load(Ordering::Relaxed),
            workers_busy: self.workers_total - self.workers.available_permits(),
            queued: self.queue_total - self.queue.available_permits(),
            flights: self.flights.lock().map_or(0, |m| m.len()),
        }
    }

    /// The flight making `id`, if one runs.
    pub fn running(&self, id: &str) -> Option<Arc<Flight>> {
        self.flights.lock().ok()?.get(id).cloned()
    }

    /// Registers `flight` for `id` unless another got there first (then returns that one).
    pub fn register(&self, id: &str, flight: Arc<Flight>) -> Result<(), Arc<Flight>> {
        let Ok(mut map) = self.flights.lock() else {
            return Ok(());
        };
        if let Some(other) = map.get(id) {
            return Err(other.clone());
        }
        map.insert(id.to_string(), flight);
        Ok(())
    }

    /// Notes that this node claims `id`; false when a request of this node already does.
    pub fn hold_claim(&self, id: &str) -> bool {
        self.claimed
            .lock()
            .is_ok_and(|mut held| held.insert(id.to_string()))
    }

    pub fn drop_claim(&self, id: &str) {
        if let Ok(mut held) = self.claimed.lock() {
            held.remove(id);
        }
    }

    pub fn forget(&self, id: &str) {
        if let Ok(mut map) = self.flights.lock() {
            map.remove(id);
        }
    }

    /// A place in the queue for a transformation of `cloud`, or why there is none.
    pub fn enqueue(&self, cloud: &str) -> Result<Queued, Refused> {
        let permit = self
            .queue
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refused::Full)?;
        let mut held = self.accounts.lock().map_err(|_| Refused::Full)?;
        let mine = held.entry(cloud.to_string()).or_insert(0);
        if self.account_limit > 0 && *mine >= self.account_limit {
            return Err(Refused::Account(self.account_limit));
        }
        *mine += 1;
        Ok(Queued {
            _permit: permit,
            cloud: cloud.to_string(),
            accounts: self.accounts.clone(),
        })
    }

    /// Waits for a worker.
    pub async fn worker(&self) -> Option<OwnedSemaphorePermit> {
        self.workers.clone().acquire_owned().await.ok()
    }
}

/// A transformation's place in the queue; given back when dropped.
#[derive(Debug)]
pub struct Queued {
    _permit: OwnedSemaphorePermit,
    cloud: String,
    accounts: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for Queued {
    fn drop(&mut self) {
        if let Ok(mut held) = self.accounts.lock()
            && let Some(n) = held.get_mut(&self.cloud)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                held.remove(&self.cloud);
            }
        }
    }
}

/// Why a transformation got no place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The engine's queue is full.
    Full,
    /// The account already has this many transformations queued or running.
    Account(usize),
}

/// A snapshot of the engine's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gauges {
    pub runs_started: u64,
    pub workers_busy: usize,
    pub queued: usize,
    pub flights: usize,
}

/// The derived id: 32 hex digits naming (asset, version, expanded transformation, format).
pub fn derived_id(asset_id: &str, version: i64, transformation: &str, format: &str) -> String {
    let mut h = Md5::new();
    h.update(format!("{asset_id}\n{version}\n{transformation}\n{format}"));
    hex::encode(h.finalize())
}

/// Blob key of a derived file.
pub fn blob_key(asset_id: &str, id: &str, format: &str) -> String {
    format!("derived/{asset_id}/{id}.{format}")
}
