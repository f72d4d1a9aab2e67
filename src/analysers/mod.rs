//! Analysers: each service turns decoded media into its section of the metadata file. A
//! failing analyser fails only its own service entry.

pub mod pdf;

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use crate::jobs::services::ServiceConfigs;
use crate::media::pdf::PdfInfo;
use crate::media::{MediaInfo, MediaType};

/// What every analyser of one job reads from.
pub struct Input {
    pub path: PathBuf,
    pub media: MediaInfo,
    pub pdf_info: Option<PdfInfo>,
    pub models_dir: PathBuf,
    pub cancel: CancellationToken,
}

/// One entry of `services`, with the section it produced when it completed.
#[derive(Debug, Clone)]
pub struct ServiceRun {
    pub service: &'static str,
    pub version: &'static str,
    pub start: String,
    pub end: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    /// Output section key and its value.
    Completed(&'static str, serde_json::Value),
    Failed(String),
    Skipped(String),
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyseError {
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Failed(String),
}

/// The media types a service applies to.
pub fn applies(service: &str, media: MediaType) -> bool {
    use MediaType::*;
    match service {
        "s2t" | "audiotag" => matches!(media, Video | Audio),
        "ocr" => matches!(media, Video | Image | Document),
        "face" | "logo" | "nld" => matches!(media, Video | Image),
        "pdf" => media == Document,
        _ => false,
    }
}

/// Run every requested service on one input, in output order. `pdf` runs for every PDF,
/// requested or not, since it is how a document's text is read.
pub fn run_all(input: &Input, configs: &ServiceConfigs) -> Result<Vec<ServiceRun>, AnalyseError> {
    let mut runs = Vec::new();
    let mut requested = configs.requested();
    if input.media.media_type == MediaType::Document && !requested.contains(&"pdf") {
        requested.push("pdf");
    }
    for service in requested {
        if input.cancel.is_cancelled() {
            return Err(AnalyseError::Cancelled);
        }
        let start = crate::time::rfc3339_now_nanos();
        let outcome = if !applies(service, input.media.media_type) {
            Outcome::Skipped(format!(
                "not applicable to {}",
                input.media.media_type.as_str()
            ))
        } else {
            let result = match service {
                "pdf" => pdf::analyse(input, &configs.pdf.clone().unwrap_or_default()),
                other => Err(AnalyseError::Failed(format!(
                    "service {other} is not available in this build"
                ))),
            };
            match result {
                Ok((key, value)) => Outcome::Completed(key, value),
                Err(AnalyseError::Cancelled) => return Err(AnalyseError::Cancelled),
                Err(AnalyseError::Failed(m)) => Outcome::Failed(m),
            }
        };
        runs.push(ServiceRun {
            service,
            version: version_of(service),
            start,
            end: crate::time::rfc3339_now_nanos(),
            outcome,
        });
    }
    Ok(runs)
}

fn version_of(service: &str) -> &'static str {
    match service {
        "pdf" => pdf::VERSION,
        _ => "unavailable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applicability_matches_the_contract() {
        assert!(applies("pdf", MediaType::Document));
        assert!(!applies("pdf", MediaType::Video));
        assert!(applies("ocr", MediaType::Document));
        assert!(!applies("s2t", MediaType::Image));
        assert!(applies("audiotag", MediaType::Audio));
    }
}
