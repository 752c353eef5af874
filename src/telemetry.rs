//! Logging set-up: structured logs on stderr, filtered by `RUST_LOG` (default `info`), as
//! text or, with `KINO_LOG_FORMAT=json`, one JSON object per line (for log collectors). Each
//! request's lines carry its id (`api::observe`). Stdout is reserved for the lines a user or a
//! test harness reads (credentials, address).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are no-ops (tests call it repeatedly).
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("KINO_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}
