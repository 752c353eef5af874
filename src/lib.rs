//! Kino: a self-hosted, video-first media server that speaks Cloudinary's wire protocols.
//!
//! # Layout
//! The request path of every face is `api` (HTTP, thin handlers) → `service` (what a call
//! means: upload, rename, delete …) → `catalog` (rows, sqlx) and `store` (blobs). Media facts
//! come from `engine`, the only module that talks to libav. The pure core — `url`, `plan`,
//! `focus`, `params`, `signing` — does no I/O and is where most table tests live.
//!
//! - [`cli`], [`config`], [`startup`]: the process, its settings and the composition root.
//! - [`account`]: the primary environment's and the account's credentials, from
//!   `CLOUDINARY_URL` and `CLOUDINARY_ACCOUNT_URL` or generated; [`ids`]: random ids and keys.
//! - [`api`]: the HTTP faces (`upload`, `admin`, `delivery`) and the one error renderer.
//! - [`service`]: upload ingestion, chunked uploads, remote fetch, resource operations.
//! - [`catalog`]: assets, tags, folders, upload presets, named transformations (SQLite now,
//!   PostgreSQL), product environments.
//! - [`store`]: the `BlobStore` trait, the local directory store and the staging area.
//! - [`engine`]: libav (ffmpeg-next): probing media, running plans, sampling frames.
//! - [`derived`]: the cache of transformation outputs and single-flight.
//! - [`url`], [`params`], [`signing`]: pure parsing and Cloudinary's signature algorithms.
//! - [`plan`]: transformation + probe facts → a runnable plan (filter graph, encoders).
//! - [`focus`]: where the interest in a picture is (for `g_auto`), from sampled pixels.
//! - [`pdf`]: a PDF of JPEG pages (`multi` with `format=pdf`).
//!
//! See ARCHITECTURE.md for the invariants.
#![deny(unsafe_code)]

pub mod account;
pub mod api;
pub mod catalog;
pub mod cli;
pub mod client;
pub mod config;
pub mod derived;
#[allow(unsafe_code)]
pub mod engine;
pub mod error;
pub mod focus;
pub mod header;
pub mod ids;
pub mod isolation;
pub mod live;
pub mod metadata;
pub mod metrics;
pub mod netguard;
pub mod params;
pub mod pdf;
pub mod plan;
pub mod search;
pub mod service;
pub mod signing;
pub mod startup;
pub mod store;
pub mod streaming;
pub mod telemetry;
pub mod url;
