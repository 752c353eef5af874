//! Black-box tests: the real server on port 0 with a temp data dir, spoken to over HTTP.
//! Media results are checked by probing, not by status codes alone.

#![allow(unreachable_pub)]
mod admin;
mod backups;
mod bad_input;
mod cli;
mod delivery;
mod environments;
mod fetch;
mod fetch_guard;
mod golden;
mod helpers;
mod images;
mod isolation;
mod jobs;
mod limits;
mod live;
mod openapi;
mod operations;
mod scale;
mod search;
mod streaming;
mod streaming_profiles;
mod strict;
mod transform;
mod transformations;
mod upload;
