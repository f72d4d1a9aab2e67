//! airscope: self-hosted media intelligence behind a Wasabi AiR compatible jobs API.
//!
//! Layers follow the data flow: `api` -> `jobs` -> `store` on the request side, and
//! `worker` -> `media` -> `analysers` -> `output` on the processing side. `storage` is the S3
//! side of both (the embedded server and the client for any S3 endpoint).

// The `cpp!` macro behind the face detector expands deeper than the default allows.
#![recursion_limit = "1024"]

pub mod analysers;
pub mod api;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod jobs;
pub mod media;
pub mod models;
pub mod output;
pub mod storage;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod worker;

/// The engine name and version written into every metadata file.
pub const ENGINE_VERSION: &str = concat!("airscope ", env!("CARGO_PKG_VERSION"));
