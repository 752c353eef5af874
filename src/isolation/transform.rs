//! Running a transformation's plan in a worker: `kino worker --plan - --output - --report`
//! reads the plan on stdin, streams the media on stdout as the engine makes it, and ends with
//! one [`Report`] line on stderr. The server copies stdout into the caller's writer, so the
//! output streams exactly as it does from an in-process run.
//!
//! A watchdog thread kills the worker when the run is cancelled (its readers left) or runs
//! past its wall-clock limit; `prlimit` caps its memory and CPU time.

use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{Isolation, describe_exit, last_json, not_started};
use crate::engine::{EngineError, RunStats};
use crate::error::ErrorKind;
use crate::plan::Plan;

/// How a transforming worker ended, as its last stderr line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    Done {
        video_frames: u64,
        audio_frames: u64,
    },
    Failed {
        message: String,
        bad_input: bool,
    },
}

impl From<&Result<RunStats, EngineError>> for Report {
    fn from(result: &Result<RunStats, EngineError>) -> Report {
        match result {
            Ok(stats) => Report::Done {
                video_frames: stats.video_frames,
                audio_frames: stats.audio_frames,
            },
            Err(e) => Report::Failed {
                message: e.to_string(),
                bad_input: e.kind() == ErrorKind::BadInput,
            },
        }
    }
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{"failed":{{"message":"unprintable report: {e}","bad_input":false}}}}"#)
        })
    }
}

/// Why the watchdog stopped a worker.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stop {
    Cancelled,
    OutOfTime,
}

/// The most of a worker's stderr kept (its end holds the report).
const STDERR_KEPT: usize = 64 * 1024;

impl Isolation {
    /// Runs `plan` in a worker, writing its output into `out`; blocking, like `engine::run`.
    pub fn run(
        &self,
        plan: &Plan,
        mut out: impl Write,
        cancel: &AtomicBool,
    ) -> Result<RunStats, EngineError> {
        let json = serde_json::to_vec(plan).map_err(|e| EngineError::Isolated {
            kind: ErrorKind::Internal,
            message: format!("the plan could not be serialized: {e}"),
        })?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        let mut command = self.command(self.max_transform_seconds.saturating_mul(cores));
        command
            .args(["--plan", "-", "--output", "-", "--report"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|e| not_started(&e))?;
        let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(not_started(&std::io::Error::other("no pipes")));
        };
        let child = Mutex::new(child);
        let kill = || {
            if let Ok(mut c) = child.lock() {
                let _ = c.kill();
            }
        };
        let deadline = Instant::now() + Duration::from_secs(self.max_transform_seconds);
        let finished = AtomicBool::new(false);
        let stop: Mutex<Option<Stop>> = Mutex::new(None);
        std::thread::scope(|s| {
            // The plan is written from its own thread: a worker that dies early must not
            // leave this one blocked on a full pipe.
            s.spawn(move || {
                let _ = stdin.write_all(&json);
            });
            let errors = s.spawn(move || read_tail(&mut stderr));
            s.spawn(|| {
                while !finished.load(Ordering::Relaxed) {
                    let why = if cancel.load(Ordering::Relaxed) {
                        Some(Stop::Cancelled)
                    } else if Instant::now() >= deadline {
                        Some(Stop::OutOfTime)
                    } else {
                        None
                    };
                    if let Some(why) = why {
                        if let Ok(mut s) = stop.lock() {
                            *s = Some(why);
                        }
                        kill();
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            });
            let copied = copy(&mut stdout, &mut out);
            if copied.is_err() {
                kill();
            }
            let status = child
                .lock()
                .map_err(|_| ())
                .and_then(|mut c| c.wait().map_err(|_| ()));
            finished.store(true, Ordering::Relaxed);
            let stderr = errors.join().unwrap_or_default();
            let stopped = stop.lock().ok().and_then(|s| *s);
            self.verdict(copied, status.ok(), stopped, &stderr)
        })
    }

    /// What the run came to, from what was copied, how the worker ended and what it said.
    fn verdict(
        &self,
        copied: std::io::Result<()>,
        status: Option<std::process::ExitStatus>,
        stopped: Option<Stop>,
        stderr: &str,
    ) -> Result<RunStats, EngineError> {
        match stopped {
            Some(Stop::Cancelled) => return Err(EngineError::Cancelled),
            Some(Stop::OutOfTime) => {
                return Err(unsafe_media(&format!(
                    "it took longer than {} s",
                    self.max_transform_seconds
                )));
            }
            None => {}
        }
        if let Err(e) = copied {
            return Err(EngineError::Isolated {
                kind: ErrorKind::Internal,
                message: format!("writing the output failed ({e})"),
            });
        }
        let Some(status) = status else {
            return Err(unsafe_media("the worker could not be watched"));
        };
        if let Some(e) = self.not_run(&status, stderr) {
            return Err(e);
        }
        match last_json::<Report>(stderr) {
            Some(Report::Done {
                video_frames,
                audio_frames,
            }) if status.success() => Ok(RunStats {
                video_frames,
                audio_frames,
            }),
            Some(Report::Failed { message, bad_input }) => Err(EngineError::Isolated {
                kind: if bad_input {
                    ErrorKind::BadInput
                } else {
                    ErrorKind::Internal
                },
                message,
            }),
            _ => Err(unsafe_media(&describe_exit(&status))),
        }
    }
}

fn unsafe_media(why: &str) -> EngineError {
    EngineError::Isolated {
        kind: ErrorKind::BadInput,
        message: format!("the media could not be transformed safely ({why})"),
    }
}

/// Copies the worker's output as it comes, chunk by chunk (no waiting for a full buffer).
fn copy(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<()> {
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return to.flush(),
            Ok(n) => to.write_all(&buf[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads `from` to its end, keeping the last [`STDERR_KEPT`] bytes as text.
fn read_tail(from: &mut impl Read) -> String {
    let mut kept: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n @ 1..) = from.read(&mut buf) {
        kept.extend_from_slice(&buf[..n]);
        if kept.len() > 2 * STDERR_KEPT {
            kept.drain(..kept.len() - STDERR_KEPT);
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}
