//! The worker's side: what `kino worker` does in the child process. It reads one plan, runs
//! it with the engine and reports how that went, then exits; the server supervises it
//! (`super::transform`, `super::probe`).

use std::io::Read;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use super::{Analysed, AnalysisJob, FramedSink, Report, Verdict};
use crate::cli::WorkerArgs;
use crate::engine::{EngineError, RunStats};
use crate::plan::{MergedPlan, Plan};

/// Probes a file (`--probe`), analyses one (`--analyse`), or runs a plan (`--plan`,
/// `--merged`) `--repeat` times.
pub fn main(args: &WorkerArgs) -> Result<(), String> {
    exit_with_parent();
    crate::engine::init().map_err(|e| e.to_string())?;
    if let Some(file) = &args.probe {
        let verdict = crate::engine::probe(file, args.hint.as_deref(), args.max_pixels);
        println!("{}", Verdict::from(verdict).to_json());
        return Ok(());
    }
    let text = read_plan(args)?;
    if args.analyse {
        let job: AnalysisJob = serde_json::from_str(&text)
            .map_err(|e| format!("the analysis job is not valid JSON: {e}"))?;
        let analysed = match crate::service::analysis::analyse(&job.base, &job.steps) {
            Ok(analysis) => Analysed::Done(Box::new(analysis)),
            Err(e) => Analysed::Failed {
                message: e.to_string(),
                bad_input: e.kind() == crate::error::ErrorKind::BadInput,
            },
        };
        println!("{}", analysed.to_json());
        return Ok(());
    }
    let cancel = AtomicBool::new(false);
    let mut result = Ok(RunStats::default());
    for _ in 0..args.repeat.max(1) {
        result = if args.merged {
            let merged: MergedPlan = serde_json::from_str(&text)
                .map_err(|e| format!("the merged plan is not valid JSON: {e}"))?;
            run_merged(&merged, &cancel)?
        } else {
            let plan: Plan = serde_json::from_str(&text)
                .map_err(|e| format!("the plan is not valid JSON: {e}"))?;
            match args.output.as_deref().filter(|p| p.as_os_str() != "-") {
                Some(path) => {
                    let file = std::fs::File::create(path)
                        .map_err(|e| format!("creating {}: {e}", path.display()))?;
                    crate::engine::run(&plan, std::io::BufWriter::new(file), &cancel)
                }
                None => crate::engine::run(&plan, raw_stdout()?, &cancel),
            }
        };
        if result.is_err() {
            break;
        }
    }
    if args.report {
        eprintln!("{}", Report::from(&result).to_json());
    }
    let stats = result.map_err(|e| e.to_string())?;
    tracing::info!(
        video_frames = stats.video_frames,
        audio_frames = stats.audio_frames,
        "plan done"
    );
    Ok(())
}

/// Runs a merged plan, its outputs framed on stdout; the stats are the outputs' totals.
fn run_merged(
    merged: &MergedPlan,
    cancel: &AtomicBool,
) -> Result<Result<RunStats, EngineError>, String> {
    let pipe = Arc::new(Mutex::new(raw_stdout()?));
    let sinks = (0..merged.outputs.len())
        .map(|k| FramedSink {
            output: u32::try_from(k).unwrap_or(u32::MAX),
            pipe: pipe.clone(),
        })
        .collect();
    Ok(
        crate::engine::run_merged(merged, sinks, cancel).map(|all| RunStats {
            video_frames: all.iter().map(|s| s.video_frames).sum(),
            audio_frames: all.iter().map(|s| s.audio_frames).sum(),
        }),
    )
}

/// The plan's text, from `--plan FILE` or stdin.
fn read_plan(args: &WorkerArgs) -> Result<String, String> {
    match args.plan.as_deref().filter(|p| p.as_os_str() != "-") {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
        }
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("reading the plan from stdin: {e}"))?;
            Ok(text)
        }
    }
}

/// Ends this process when the one that started it is gone (a server killed with -9 leaves
/// no worker running on).
fn exit_with_parent() {
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(500));
            if std::os::unix::process::parent_id() != parent {
                std::process::exit(1);
            }
        }
    });
}

/// Stdout without Rust's line buffering: media bytes leave as the muxer writes them.
fn raw_stdout() -> Result<std::fs::File, String> {
    use std::os::fd::AsFd;
    let fd = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| format!("stdout: {e}"))?;
    Ok(std::fs::File::from(fd))
}
