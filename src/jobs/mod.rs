//! The jobs domain: what a job is, how a submission is validated, and the operations the API
//! offers on jobs (on top of the store).

pub mod gallery;
pub mod model;
pub mod ops;
pub mod request;
pub mod services;
pub mod stats;

pub use model::{Destination, JobRecord, JobSecrets, Source, Status};
pub use ops::{JobsError, JobsService};
pub use request::{parse_job_request, ValidJobRequest};
