//! Probing an upload in a worker: `kino worker --probe FILE` prints one [`Verdict`].

use std::path::Path;
use std::process::Stdio;

use serde::{Deserialize, Serialize};

use super::{Isolation, describe_exit, last_json, not_started, unreadable};
use crate::engine::{EngineError, MediaInfo};
use crate::error::ErrorKind;

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
        let mut command = tokio::process::Command::from(self.command(self.max_seconds));
        command
            .arg("--probe")
            .arg(path)
            .args(["--max-pixels", &max_pixels.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(h) = hint {
            command.args(["--hint", h]);
        }
        let child = command.spawn().map_err(|e| not_started(&e))?;
        let output = self.finished(child, "reading it").await?;
        match last_json::<Verdict>(&String::from_utf8_lossy(&output.stdout)) {
            Some(v) if output.status.success() => v.into_result(),
            _ => Err(unreadable(&describe_exit(&output.status))),
        }
    }
}
