//! Untrusted media is read in `kino worker` processes, not in the server: a file crafted to
//! crash a decoder, to eat memory or to never end costs one worker, which the kernel caps
//! (`prlimit`: address space and CPU seconds) and the server stops after a wall-clock limit.
//! The request gets a clear error; the server keeps serving.
//!
//! The worker prints one JSON line, a [`Verdict`]; anything else (a signal, a non-zero exit,
//! no line) is reported as a file that could not be read safely.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::engine::{EngineError, MediaInfo};
use crate::error::ErrorKind;

/// How workers are run.
#[derive(Debug, Clone)]
pub struct Isolation {
    /// The `kino` binary.
    pub worker: PathBuf,
    pub max_memory_bytes: u64,
    pub max_seconds: u64,
}

/// What a probing worker found, as it travels on the worker's stdout.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Info(Box<MediaInfo>),
    Error {
        message: String,
        bad_input: bool,
        /// Set when the picture was refused for its size: (width, height, maximum).
        too_many_pixels: Option<(u32, u32, u64)>,
    },
}

impl From<Result<MediaInfo, EngineError>> for Verdict {
    fn from(result: Result<MediaInfo, EngineError>) -> Verdict {
        match result {
            Ok(info) => Verdict::Info(Box::new(info)),
            Err(e) => Verdict::Error {
                message: e.to_string(),
                bad_input: e.kind() == ErrorKind::BadInput,
                too_many_pixels: match e {
                    EngineError::TooManyPixels { width, height, max } => Some((width, height, max)),
                    _ => None,
                },
            },
        }
    }
}

impl Verdict {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{"error":{{"message":"unprintable verdict: {e}","bad_input":false,"too_many_pixels":null}}}}"#)
        })
    }

    fn into_result(self) -> Result<MediaInfo, EngineError> {
        match self {
            Verdict::Info(info) => Ok(*info),
            Verdict::Error {
                too_many_pixels: Some((width, height, max)),
                ..
            } => Err(EngineError::TooManyPixels { width, height, max }),
            Verdict::Error {
                message, bad_input, ..
            } => Err(EngineError::Isolated {
                kind: if bad_input {
                    ErrorKind::BadInput
                } else {
                    ErrorKind::Internal
                },
                message,
            }),
        }
    }
}

impl Isolation {
    /// Probes `path` in a worker.
    pub async fn probe(
        &self,
        path: &Path,
        hint: Option<&str>,
        max_pixels: u64,
    ) -> Result<MediaInfo, EngineError> {
        let mut command = tokio::process::Command::new("prlimit");
        command
            .arg(format!("--as={}", self.max_memory_bytes))
            .arg(format!("--cpu={}", self.max_seconds.max(1)))
            .arg("--")
            .arg(&self.worker)
            .arg("worker")
            .arg("--probe")
            .arg(path)
            .args(["--max-pixels", &max_pixels.to_string()])
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(h) = hint {
            command.args(["--hint", h]);
        }
        let child = command.spawn().map_err(|e| EngineError::Isolated {
            kind: ErrorKind::Internal,
            message: format!("the media worker could not be started: {e}"),
        })?;
        let limit = Duration::from_secs(self.max_seconds);
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
                    "reading it took longer than {} s",
                    self.max_seconds
                )));
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let verdict = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .and_then(|l| serde_json::from_str::<Verdict>(l).ok());
        match (verdict, output.status.code()) {
            (Some(v), Some(0)) => v.into_result(),
            // prlimit's own codes: the worker could not be executed (not the file's fault).
            (_, Some(code @ (126 | 127))) => Err(EngineError::Isolated {
                kind: ErrorKind::Internal,
                message: format!(
                    "the media worker {} could not be run (status {code}): {}",
                    self.worker.display(),
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            }),
            _ => Err(unreadable(&describe_exit(&output.status))),
        }
    }
}

fn unreadable(why: &str) -> EngineError {
    EngineError::Isolated {
        kind: ErrorKind::BadInput,
        message: format!("the file could not be read safely ({why})"),
    }
}

fn describe_exit(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (_, Some(9)) => "the reader was stopped: it used too much memory or time".into(),
        (_, Some(24)) => "the reader used too much CPU time".into(),
        (_, Some(11)) => "the reader crashed".into(),
        (_, Some(signal)) => format!("the reader was stopped by signal {signal}"),
        (Some(code), None) => format!("the reader failed with status {code}"),
        (None, None) => "the reader ended without a verdict".into(),
    }
}
