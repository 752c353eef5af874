//! Adaptive streaming: streaming profiles (the built-in ones are data in `profiles/`), and —
//! with the HLS and DASH work — manifests and segments.

pub mod profiles;
