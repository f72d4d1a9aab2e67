//! Preflight: the source exists and is readable, its type comes from its bytes, its size and
//! duration are within limits; then it is fetched to a local file and probed.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::scratch::SlotFile;
use crate::config::Config;
use crate::jobs::model::{JobRecord, JobSecrets};
use crate::media::pdf::PdfInfo;
use crate::media::sniff::{sniff, SNIFF_LEN};
use crate::media::{probe, MediaError, MediaInfo, MediaType};
use crate::storage::{Bucket, BucketLocation, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// The job cannot succeed as submitted: fail it with this reason.
    #[error("{0}")]
    Permanent(String),
    /// Worth another attempt later.
    #[error("{0}")]
    Transient(String),
    #[error("cancelled")]
    Cancelled,
}

impl From<StorageError> for PreflightError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Cancelled => PreflightError::Cancelled,
            StorageError::Transient(m) => PreflightError::Transient(m),
            other => PreflightError::Permanent(other.to_string()),
        }
    }
}

impl From<MediaError> for PreflightError {
    fn from(e: MediaError) -> Self {
        PreflightError::Permanent(e.to_string())
    }
}

/// A source on local disk, ready for the analysers.
pub struct Prepared {
    /// The downloaded source, emptied when dropped.
    pub source: SlotFile,
    pub media: MediaInfo,
    pub pdf_info: Option<PdfInfo>,
}

/// Where the source object is and which keys read it: the source's own pair when the job
/// named one, else the submitter's.
pub fn locate_source(job: &JobRecord, secrets: &JobSecrets, config: &Config) -> BucketLocation {
    let keys = match (&secrets.source_access_key, &secrets.source_secret_key) {
        (Some(a), Some(s)) => (a.clone(), s.clone()),
        _ => (secrets.access_key.clone(), secrets.secret_key.clone()),
    };
    job.source.location(keys, config)
}

pub async fn prepare(
    job: &JobRecord,
    source: &BucketLocation,
    config: &Config,
    cancel: &CancellationToken,
    path: &Path,
) -> Result<Prepared, PreflightError> {
    let bucket = Bucket::open(source, &config.storage)?;
    let key = &job.source.object_key;
    let mut object = bucket.get(key).await?;
    let size = object.size;
    if size == 0 {
        return Err(PreflightError::Permanent(format!(
            "source object s3://{}/{key} is empty (0 bytes)",
            source.bucket
        )));
    }
    if size > config.limits.max_source_bytes {
        return Err(PreflightError::Permanent(format!(
            "source object is {size} bytes, over the limit of {} bytes",
            config.limits.max_source_bytes
        )));
    }
    // Sniffed before the rest is read: a file of an unsupported type is not downloaded.
    let sniffed = sniff(object.first_bytes(SNIFF_LEN as usize, cancel).await?)?;
    let file = SlotFile::new(path);
    let got = object.save(path, cancel).await?;
    if got != size {
        return Err(PreflightError::Transient(format!(
            "source changed while reading it ({got} of {size} bytes)"
        )));
    }
    let (media, pdf_info) =
        probe_local(path, sniffed.media_type, sniffed.mime, got, config).await?;
    Ok(Prepared {
        source: file.complete(),
        media,
        pdf_info,
    })
}

/// Probe a local file whose type is known, and enforce the duration limit.
pub async fn probe_local(
    path: &Path,
    media_type: MediaType,
    mime: &str,
    size: u64,
    config: &Config,
) -> Result<(MediaInfo, Option<PdfInfo>), PreflightError> {
    let path = path.to_path_buf();
    let mime = mime.to_string();
    let models = config.models_dir();
    let (media, pdf_info) = tokio::task::spawn_blocking(move || match media_type {
        MediaType::Video | MediaType::Audio => {
            probe::probe_av(&path, &mime, size).map(|m| (m, None))
        }
        MediaType::Image => probe::probe_image(&path, &mime, size).map(|m| (m, None)),
        MediaType::Document => {
            crate::media::pdf::probe(&models, &path, size).map(|(m, i)| (m, Some(i)))
        }
    })
    .await
    .map_err(|e| PreflightError::Permanent(format!("probe crashed: {e}")))??;
    if let Some(d) = media.duration {
        if d > config.limits.max_duration_secs {
            return Err(PreflightError::Permanent(format!(
                "media is {d:.0} s long, over the limit of {:.0} s",
                config.limits.max_duration_secs
            )));
        }
    }
    Ok((media, pdf_info))
}
