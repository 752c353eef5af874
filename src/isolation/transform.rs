//! Running a transformation's plan in a worker: `kino worker --plan - --output - --report`
//! reads the plan on stdin, streams the media on stdout as the engine makes it, and ends with
//! one [`Report`] line on stderr. The server copies stdout into the caller's writer, so the
//! output streams exactly as it does from an in-process run.
//!
//! A watchdog thread kills the worker when the run is cancelled (its readers left) or runs
//! past its wall-clock limit; `prlimit` caps its memory and CPU time.

use std::io::{Read, Write};
use std::process::{ChildStdout, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{Isolation, describe_exit, last_json, not_started};
use crate::engine::{EngineError, RunStats};
use crate::error::ErrorKind;
use crate::plan::{MergedPlan, Plan};

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
        let json = serialized(plan)?;
        self.supervise(&[], json, cancel, |stdout| copy(stdout, &mut out))
    }

    /// Runs a merged plan in a worker, writing output `k` into `sinks[k]`; blocking, like
    /// `engine::run_merged`. The outputs travel interleaved on one pipe, in frames.
    pub fn run_merged(
        &self,
        merged: &MergedPlan,
        mut sinks: Vec<impl Write>,
        cancel: &AtomicBool,
    ) -> Result<RunStats, EngineError> {
        let json = serialized(merged)?;
        self.supervise(&["--merged"], json, cancel, |stdout| {
            unframe(stdout, &mut sinks)
        })
    }

    /// Starts a worker on the plan `json`, hands its stdout to `consume`, and watches it:
    /// killed when `cancel` is set or its time is up.
    fn supervise(
        &self,
        extra: &[&str],
        json: Vec<u8>,
        cancel: &AtomicBool,
        consume: impl FnOnce(&mut ChildStdout) -> std::io::Result<()>,
    ) -> Result<RunStats, EngineError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        let mut command = self.command(self.max_transform_seconds.saturating_mul(cores));
        command
            .args(["--plan", "-", "--output", "-", "--report"])
            .args(extra)
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
            let copied = consume(&mut stdout);
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

fn serialized(plan: &impl Serialize) -> Result<Vec<u8>, EngineError> {
    serde_json::to_vec(plan).map_err(|e| EngineError::Isolated {
        kind: ErrorKind::Internal,
        message: format!("the plan could not be serialized: {e}"),
    })
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

/// One output's bytes in a worker's framed stdout: `[output: u32 LE][length: u32 LE]` then
/// the bytes. How a merged run's outputs share one pipe.
#[derive(Debug)]
pub struct FramedSink<W: Write> {
    pub output: u32,
    pub pipe: std::sync::Arc<Mutex<W>>,
}

impl<W: Write> Write for FramedSink<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        let buf = &buf[..len as usize];
        let mut pipe = self
            .pipe
            .lock()
            .map_err(|_| std::io::Error::other("the output pipe's lock is poisoned"))?;
        let mut frame = Vec::with_capacity(8 + buf.len());
        frame.extend_from_slice(&self.output.to_le_bytes());
        frame.extend_from_slice(&len.to_le_bytes());
        frame.extend_from_slice(buf);
        pipe.write_all(&frame)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads frames (see [`FramedSink`]) to the end, writing each into its sink.
fn unframe(from: &mut impl Read, sinks: &mut [impl Write]) -> std::io::Result<()> {
    let mut header = [0u8; 8];
    let mut buf = Vec::new();
    loop {
        match from.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
        let [o0, o1, o2, o3, l0, l1, l2, l3] = header;
        let output = u32::from_le_bytes([o0, o1, o2, o3]) as usize;
        let len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
        let sink = sinks
            .get_mut(output)
            .ok_or_else(|| std::io::Error::other(format!("the worker wrote to output {output}")))?;
        buf.resize(len, 0);
        from.read_exact(&mut buf)?;
        sink.write_all(&buf)?;
    }
    for sink in sinks {
        sink.flush()?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framed_outputs_come_apart_as_they_were_written() {
        let pipe = std::sync::Arc::new(Mutex::new(Vec::<u8>::new()));
        let mut sinks: Vec<FramedSink<Vec<u8>>> = (0..3)
            .map(|output| FramedSink {
                output,
                pipe: pipe.clone(),
            })
            .collect();
        sinks[1].write_all(b"one").unwrap();
        sinks[0].write_all(b"zero").unwrap();
        sinks[1].write_all(b" more").unwrap();
        sinks[2].write_all(b"two").unwrap();
        let bytes = pipe.lock().unwrap().clone();

        let mut outs = vec![Vec::new(), Vec::new(), Vec::new()];
        unframe(&mut bytes.as_slice(), &mut outs).unwrap();
        assert_eq!(
            outs,
            [b"zero".to_vec(), b"one more".to_vec(), b"two".to_vec()]
        );

        // A frame for an output that does not exist is an error, not a panic.
        let mut two = vec![Vec::new(), Vec::new()];
        assert!(unframe(&mut bytes.as_slice(), &mut two).is_err());
        let mut none: Vec<Vec<u8>> = Vec::new();
        assert!(unframe(&mut bytes.as_slice(), &mut none).is_err());
    }
}
