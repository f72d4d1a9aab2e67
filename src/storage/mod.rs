//! Storage: the embedded S3 server, the key store it shares with the API, and the one S3
//! client through which workers reach any endpoint (embedded, AWS, Wasabi, MinIO, ...).

pub mod client;
pub mod embedded;
pub mod guard;
mod http;
pub mod keys;

pub use client::{Bucket, BucketLocation, StorageError};
