//! Looking at a picture before planning (`g_auto`, faces, `e_trim`, `b_auto`) in a worker:
//! `kino worker --analyse` reads an [`AnalysisJob`] on stdin and prints one [`Analysed`] line.
//! The frames it decodes come from untrusted media like any other.

use std::process::Stdio;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::{Isolation, describe_exit, last_json, not_started, unreadable};
use crate::engine::EngineError;
use crate::error::ErrorKind;
use crate::plan::Source;
use crate::service::analysis::Analysis;
use crate::url::Step;

/// What to analyse.
#[derive(Debug, Serialize, Deserialize)]
pub struct AnalysisJob {
    pub base: Source,
    pub steps: Vec<Step>,
}

/// What an analysing worker found, as it travels on the worker's stdout.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Analysed {
    Done(Box<Analysis>),
    Failed { message: String, bad_input: bool },
}

impl Analysed {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{"failed":{{"message":"unprintable analysis: {e}","bad_input":false}}}}"#)
        })
    }
}

impl Isolation {
    /// Runs the analyses `job.steps` need in a worker.
    pub async fn analyse(&self, job: &AnalysisJob) -> Result<Analysis, EngineError> {
        let json = serde_json::to_vec(job).map_err(|e| EngineError::Isolated {
            kind: ErrorKind::Internal,
            message: format!("the analysis could not be serialized: {e}"),
        })?;
        let mut command = tokio::process::Command::from(self.command(self.max_seconds));
        command
            .arg("--analyse")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| not_started(&e))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A worker that dies before reading it all is reported by its exit below.
            let _ = stdin.write_all(&json).await;
        }
        let output = self.finished(child, "looking at it").await?;
        match last_json::<Analysed>(&String::from_utf8_lossy(&output.stdout)) {
            Some(Analysed::Done(analysis)) if output.status.success() => Ok(*analysis),
            Some(Analysed::Failed { message, bad_input }) => Err(EngineError::Isolated {
                kind: if bad_input {
                    ErrorKind::BadInput
                } else {
                    ErrorKind::Internal
                },
                message,
            }),
            _ => Err(unreadable(&describe_exit(&output.status))),
        }
    }
}
