//! The `kino` binary: parse the command line, then hand over to the library.
//! Everything worth testing lives in the library; this file only wires the process.

use std::process::ExitCode;

use clap::Parser;
use kino::cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    kino::telemetry::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => kino::cli::serve(args).await,
        Command::Config(args) => kino::cli::config(&args),
        Command::Worker(args) => kino::cli::worker(&args),
        Command::Plan(args) => kino::cli::plan(&args),
        Command::Upload(args) => kino::cli::upload(&args).await,
        Command::Url(args) => kino::cli::url(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("kino: {message}");
            ExitCode::FAILURE
        }
    }
}
