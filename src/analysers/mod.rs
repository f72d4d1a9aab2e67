//! Analysers: each service turns decoded media into its section of the metadata file. They
//! run on one decode through [`pipeline`]; a failing analyser fails only its own service.

pub mod audiotag;
pub mod face;
mod follow;
pub mod logo;
pub mod nld;
pub mod ocr;
mod onnx;
pub mod pdf;
pub mod pipeline;
pub mod rect;
pub mod s2t;
mod still;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::jobs::services::{
    AudioChannel, AudiotagConfig, FaceConfig, LogoConfig, OcrConfig, S2tConfig, ServiceConfigs,
    KNOWN,
};
use crate::media::pdf::PdfInfo;
use crate::media::shots::Shot;
use crate::media::{MediaInfo, MediaType};
use pipeline::{Analyser, Job};

/// The contract's precision for times; confidences use the same.
fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// An output section: its key in the metadata file and its value.
pub type Section = (&'static str, serde_json::Value);

/// What every analyser of one job reads from.
pub struct Input {
    pub path: PathBuf,
    pub media: MediaInfo,
    pub pdf_info: Option<PdfInfo>,
    pub models_dir: PathBuf,
    /// The submitting user's face gallery (service `face`), or why it cannot be read.
    pub faces: Result<Vec<face::KnownFace>, String>,
    /// The submitting user's logo gallery (service `logo`), or why it cannot be read.
    pub logos: Result<Vec<logo::KnownLogo>, String>,
    pub cancel: CancellationToken,
    /// Share of the media analysed so far, 0..=100 (read by the worker's heartbeat).
    pub progress: Arc<AtomicU8>,
}

impl Input {
    /// Record that `done` of `total` (seconds, pages) is analysed.
    pub fn report_progress(&self, done: f64, total: f64) {
        if total > 0.0 {
            let pct = (done / total * 100.0).clamp(0.0, 100.0) as u8;
            self.progress.fetch_max(pct, Ordering::Relaxed);
        }
    }
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
    Completed(&'static str, serde_json::Value),
    Failed(String),
    Skipped(String),
}

/// Everything the analysis of one job produced.
pub struct Analysis {
    pub runs: Vec<ServiceRun>,
    /// Shot boundaries, when the video's frames were decoded.
    pub shots: Option<Vec<Shot>>,
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

type Built = Result<Box<dyn Analyser>, AnalyseError>;

/// The analyser of a service and the version written into `services`; building it loads its
/// models, so a missing model fails that service alone.
fn analyser_for(service: &str, configs: &ServiceConfigs, input: &Input) -> (&'static str, Built) {
    fn boxed(a: Result<impl Analyser + 'static, AnalyseError>) -> Built {
        a.map(|a| Box::new(a) as Box<dyn Analyser>)
    }
    match service {
        "pdf" => (
            pdf::VERSION,
            boxed(Ok(pdf::PdfAnalyser::new(
                configs.pdf.clone().unwrap_or_default(),
                configs.ocr.as_ref().map(|o| o.min_confidence),
            ))),
        ),
        "audiotag" => {
            let config = configs.audiotag.clone().unwrap_or_default();
            (
                audiotag::VERSION,
                check_channel(config.audio_channel, &input.media)
                    .and_then(|()| boxed(audiotag::AudiotagAnalyser::new(config, input))),
            )
        }
        "logo" => (
            logo::VERSION,
            boxed(logo::LogoAnalyser::new(
                configs.logo.clone().unwrap_or_default(),
                input,
            )),
        ),
        "face" => (
            face::VERSION,
            boxed(face::FaceAnalyser::new(
                configs.face.clone().unwrap_or_default(),
                input,
            )),
        ),
        "ocr" => (
            ocr::VERSION,
            boxed(ocr::OcrAnalyser::new(
                configs.ocr.clone().unwrap_or_default(),
                configs.pdf.clone().unwrap_or_default(),
                input,
            )),
        ),
        "nld" => (nld::VERSION, boxed(Ok(nld::NldAnalyser::new(input)))),
        "s2t" => {
            let config = configs.s2t.clone().unwrap_or_default();
            (
                s2t::VERSION,
                check_channel(config.audio_channel, &input.media)
                    .and_then(|()| boxed(s2t::S2tAnalyser::new(config, input))),
            )
        }
        // Services are checked at submission; a name from elsewhere fails on its own.
        other => (
            "none",
            Err(AnalyseError::Failed(format!("unknown service {other}"))),
        ),
    }
}

/// A channel index the media does not have fails the service that asked for it, not the
/// decode every service shares.
fn check_channel(channel: AudioChannel, media: &MediaInfo) -> Result<(), AnalyseError> {
    match (channel, media.audio_channels) {
        (AudioChannel::Index(i), Some(n)) if i >= n => Err(AnalyseError::Failed(format!(
            "audio_channel {i} does not exist: the audio has {n} channel(s), numbered from 0"
        ))),
        _ => Ok(()),
    }
}

/// Why a service cannot run on this media at all, if it cannot.
fn inapplicable(service: &str, media: &MediaInfo) -> Option<String> {
    if !applies(service, media.media_type) {
        return Some(format!("not applicable to {}", media.media_type.as_str()));
    }
    let hears = matches!(service, "s2t" | "audiotag");
    (hears && media.audio_codec.is_none()).then(|| "the media has no audio stream".into())
}

/// Services `nld` describes from: it runs them when the job did not request them.
const DESCRIBED: [&str; 5] = ["s2t", "ocr", "audiotag", "face", "logo"];

/// Whether a job with these services may run `service`, requested or for another one's
/// sake; the worker reads a user's face and logo galleries only when it may.
pub fn may_run(configs: &ServiceConfigs, service: &str) -> bool {
    configs.requested().contains(&service)
        || (configs.nld.is_some() && DESCRIBED.contains(&service))
}

/// Services a requested one reads the findings of, with the configuration they run under
/// when the job did not request them itself: `nld` reads what every other analyser of
/// pictures and sound found, and `logo` reads the text `ocr` found (word marks).
fn dependencies(configs: &ServiceConfigs, input: &Input) -> ServiceConfigs {
    let mut hidden = ServiceConfigs::default();
    let describe = configs.nld.is_some() && inapplicable("nld", &input.media).is_none();
    if describe {
        let has_logos = input.logos.as_ref().is_ok_and(|l| !l.is_empty());
        hidden.s2t = configs.s2t.is_none().then(|| S2tConfig {
            captions: false,
            ..S2tConfig::default()
        });
        hidden.audiotag = configs.audiotag.is_none().then(AudiotagConfig::default);
        hidden.face = configs.face.is_none().then(FaceConfig::default);
        // With no logo enrolled there is nothing to find, and nothing to pay for.
        hidden.logo = (configs.logo.is_none() && has_logos).then(LogoConfig::default);
    }
    // Word marks need a logo service that runs and a name long enough to look for; the
    // text is then read as often as the logos are looked for.
    let names = input
        .logos
        .as_ref()
        .is_ok_and(|logos| logos.iter().any(|l| logo::wordmark::searchable(&l.name)));
    let logo = configs.logo.as_ref().or(hidden.logo.as_ref());
    if let Some(logo) = logo.filter(|l| l.wordmark) {
        if configs.ocr.is_none() && names && inapplicable("logo", &input.media).is_none() {
            hidden.ocr = Some(OcrConfig {
                frame_interval: logo.frame_interval,
                ..OcrConfig::default()
            });
        }
    }
    if describe && configs.ocr.is_none() && hidden.ocr.is_none() {
        hidden.ocr = Some(OcrConfig::default());
    }
    hidden
}

/// Run every requested service on one input, in output order. `pdf` runs for every PDF,
/// requested or not, since it is how a document's text is read. The services the requested
/// ones depend on run too, before them; their sections are not part of the output.
pub fn run_all(input: &Input, configs: &ServiceConfigs) -> Result<Analysis, AnalyseError> {
    let mut requested = configs.requested();
    if input.media.media_type == MediaType::Document && !requested.contains(&"pdf") {
        requested.push("pdf");
    }
    let start = crate::time::rfc3339_now_nanos();
    let mut runs: Vec<ServiceRun> = Vec::new();
    let mut jobs = Vec::new();
    let hidden = dependencies(configs, input);
    for service in hidden.requested() {
        if inapplicable(service, &input.media).is_some() {
            continue;
        }
        // A dependency that cannot run only takes its findings away from the service that
        // reads them.
        match analyser_for(service, &hidden, input) {
            (_, Ok(analyser)) => jobs.push(Job { service, analyser }),
            (_, Err(e)) => tracing::warn!(service, error = %e, "dependency cannot run"),
        }
    }
    for service in &requested {
        let skipped = |why: String| ServiceRun {
            service,
            version: "none",
            start: start.clone(),
            end: start.clone(),
            outcome: Outcome::Skipped(why),
        };
        if let Some(why) = inapplicable(service, &input.media) {
            runs.push(skipped(why));
            continue;
        }
        match analyser_for(service, configs, input) {
            (version, Err(e)) => runs.push(ServiceRun {
                version,
                end: crate::time::rfc3339_now_nanos(),
                outcome: Outcome::Failed(e.to_string()),
                ..skipped(String::new())
            }),
            (version, Ok(analyser)) => {
                runs.push(ServiceRun {
                    service,
                    version,
                    start: start.clone(),
                    end: start.clone(),
                    outcome: Outcome::Failed("the analyser did not report".into()),
                });
                jobs.push(Job { service, analyser });
            }
        }
    }
    // In the contract's order, hidden or not: a service gives its section after those it
    // reads (`ocr` before `logo`).
    jobs.sort_by_key(|j| KNOWN.iter().position(|k| *k == j.service));
    let outcome = pipeline::run(input, jobs)?;
    for (service, result) in outcome.results {
        let Some(run) = runs.iter_mut().find(|r| r.service == service) else {
            // A dependency's failure only takes its findings away; say so in the log.
            if let Err(AnalyseError::Failed(e)) = &result {
                tracing::warn!(service, error = %e, "dependency failed");
            }
            continue;
        };
        run.end = crate::time::rfc3339_now_nanos();
        run.outcome = match result {
            Ok((key, value)) => Outcome::Completed(key, value),
            Err(AnalyseError::Cancelled) => return Err(AnalyseError::Cancelled),
            Err(AnalyseError::Failed(m)) => Outcome::Failed(m),
        };
    }
    Ok(Analysis {
        runs,
        shots: outcome.shots,
    })
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
