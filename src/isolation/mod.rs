//! Untrusted media is read in `kino worker` processes, not in the server: a file crafted to
//! crash a decoder, to eat memory or to never end costs one worker, which the kernel caps
//! (`prlimit`: address space and CPU seconds) and the server stops after a wall-clock limit.
//! The request gets a clear error; the server keeps serving.
//!
//! Three kinds of work go there: probing an upload ([`probe`]), looking at a picture before
//! planning ([`analysis`]) and running a transformation's plan or merged plan
//! ([`transform`]); [`worker`] is the child's side. A worker reports how it ended in one JSON line; anything else (a
//! signal, a non-zero exit, no line) is reported as media that could not be read safely.

mod analysis;
mod probe;
mod transform;
pub mod worker;

pub use analysis::{Analysed, AnalysisJob};
pub use probe::Verdict;
pub use transform::{FramedSink, Report};

use std::path::PathBuf;
use std::process::ExitStatus;

use crate::engine::EngineError;
use crate::error::ErrorKind;

/// How workers are run.
#[derive(Debug, Clone)]
pub struct Isolation {
    /// The `kino` binary.
    pub worker: PathBuf,
    pub max_memory_bytes: u64,
    /// CPU and wall-clock limit of a probe.
    pub max_seconds: u64,
    /// Wall-clock limit of a transformation (its CPU limit is this times the cores).
    pub max_transform_seconds: u64,
}

impl Isolation {
    /// `kino worker ARGS` under `prlimit`, with `cpu_seconds` of CPU time.
    fn command(&self, cpu_seconds: u64) -> std::process::Command {
        let mut command = std::process::Command::new("prlimit");
        command
            .arg(format!("--as={}", self.max_memory_bytes))
            .arg(format!("--cpu={}", cpu_seconds.max(1)))
            .arg("--")
            .arg(&self.worker)
            .arg("worker")
            .env("RUST_LOG", "error")
            // Fewer malloc arenas: address space reserved per thread counts against `--as`.
            .env("MALLOC_ARENA_MAX", "2");
        command
    }

    /// A worker's output once it exits, within `max_seconds` (`doing` says what took longer
    /// when it does not; the worker is then killed), checked to have run at all.
    async fn finished(
        &self,
        child: tokio::process::Child,
        doing: &str,
    ) -> Result<std::process::Output, EngineError> {
        let limit = std::time::Duration::from_secs(self.max_seconds);
        let output = match tokio::time::timeout(limit, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                return Err(EngineError::Isolated {
                    kind: ErrorKind::Internal,
                    message: format!("the media worker could not be watched: {e}"),
                });
            }
            // Dropping the child kills it.
            Err(_) => {
                return Err(unreadable(&format!(
                    "{doing} took longer than {} s",
                    self.max_seconds
                )));
            }
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        if let Some(e) = self.not_run(&output.status, &stderr) {
            return Err(e);
        }
        Ok(output)
    }

    /// The error for a worker that `prlimit` could not execute, if that is what `status` says.
    fn not_run(&self, status: &ExitStatus, stderr: &str) -> Option<EngineError> {
        let code @ (126 | 127) = status.code()? else {
            return None;
        };
        Some(EngineError::Isolated {
            kind: ErrorKind::Internal,
            message: format!(
                "the media worker {} could not be run (status {code}): {}",
                self.worker.display(),
                stderr.trim()
            ),
        })
    }
}

/// The last line of a worker's `output` that parses as `T`.
fn last_json<T: serde::de::DeserializeOwned>(output: &str) -> Option<T> {
    output
        .lines()
        .rev()
        .filter(|l| l.starts_with('{'))
        .find_map(|l| serde_json::from_str(l).ok())
}

fn unreadable(why: &str) -> EngineError {
    EngineError::Isolated {
        kind: ErrorKind::BadInput,
        message: format!("the file could not be read safely ({why})"),
    }
}

fn not_started(e: &std::io::Error) -> EngineError {
    EngineError::Isolated {
        kind: ErrorKind::Internal,
        message: format!("the media worker could not be started: {e}"),
    }
}

fn describe_exit(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (_, Some(9)) => "the worker was stopped: it used too much memory or time".into(),
        (_, Some(24)) => "the worker used too much CPU time".into(),
        (_, Some(11)) => "the worker crashed".into(),
        (_, Some(signal)) => format!("the worker was stopped by signal {signal}"),
        (Some(code), None) => format!("the worker failed with status {code}"),
        (None, None) => "the worker ended without a verdict".into(),
    }
}
