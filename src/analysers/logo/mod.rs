//! The `logo` service: the logos of the submitting user's gallery, found in frames and images
//! by local features (ORB keypoints, an LSH index, RANSAC homographies) and, as a second
//! signal, in the text the `ocr` analyser read (`method: wordmark`). No learned logo model
//! ships in any package registry, so only enrolled logos are found.

pub mod cv;
mod lsh;
pub mod matcher;
pub mod reference;
mod track;
pub mod wordmark;

use image::GrayImage;
use serde_json::{json, Value};

use super::pipeline::{Analyser, Findings, Frame, Needs};
use super::rect::{bbox_json, Rect};
use super::still::StillCheck;
use super::{round3, AnalyseError, Input, Section};
use crate::jobs::services::LogoConfig;
use crate::media::MediaType;
use cv::Extractor;
use matcher::Catalogue;
pub use matcher::KnownLogo;
pub use reference::{EnrolError, Reference};
use track::{Sighting, Tracker};

pub const VERSION: &str = "opencv-4.6-orb+lsh+ransac-v1";

/// Video frames are analysed at most this wide (720p stays native).
const VIDEO_SIDE: u32 = 1280;
/// Images are read at most this large on their long side.
const IMAGE_SIDE: u32 = 1600;
/// Keypoints sought per picture: a logo a quarter of a 720p frame wide still gets dozens, and
/// the lookup of a 50-logo gallery stays within the frame's budget (bench/logo.sh).
pub const FRAME_FEATURES: usize = 1500;

pub struct LogoAnalyser {
    config: LogoConfig,
    media: MediaType,
    extractor: Extractor,
    catalogue: Catalogue,
    still: StillCheck,
    tracker: Tracker,
}

impl LogoAnalyser {
    pub fn new(config: LogoConfig, input: &Input) -> Result<Self, AnalyseError> {
        let gallery = input.logos.clone().map_err(AnalyseError::Failed)?;
        Ok(LogoAnalyser {
            config,
            media: input.media.media_type,
            extractor: Extractor::new(FRAME_FEATURES),
            catalogue: Catalogue::new(gallery),
            still: StillCheck::default(),
            tracker: Tracker::default(),
        })
    }
}

impl Analyser for LogoAnalyser {
    fn needs(&self) -> Needs {
        let side = match self.media {
            MediaType::Video => VIDEO_SIDE,
            _ => IMAGE_SIDE,
        };
        Needs {
            frames: (!self.catalogue.is_empty()).then_some((self.config.frame_interval, side)),
            ..Needs::default()
        }
    }

    fn frame(&mut self, frame: &Frame) -> Result<(), AnalyseError> {
        let image = &frame.image;
        if self.still.unchanged(image, frame.shot_start) {
            self.tracker.still(frame.time);
            return Ok(());
        }
        let grey: GrayImage = image::imageops::grayscale(image.as_ref());
        let features = self.extractor.extract(&grey)?;
        let (w, h) = grey.dimensions();
        let threshold = self.config.rec_confidence_threshold as f32;
        let sightings: Vec<Sighting> = self
            .catalogue
            .find(&features, (w, h))
            .into_iter()
            .filter(|f| f.confidence >= threshold)
            .map(|f| Sighting {
                logo: f.logo,
                confidence: f.confidence,
                bbox: f.bbox.scaled(1.0 / w as f32, 1.0 / h as f32),
            })
            .collect();
        self.tracker.frame(frame.time, &sightings);
        Ok(())
    }

    fn finish(
        self: Box<Self>,
        _input: &Input,
        earlier: &Findings,
    ) -> Result<Section, AnalyseError> {
        let timed = self.media == MediaType::Video;
        let threshold = self.config.rec_confidence_threshold as f32;
        let mut entries: Vec<(f64, Value)> = self
            .tracker
            .finish()
            .iter()
            .map(|a| {
                let (id, name) = self.catalogue.logo(a.logo);
                (
                    a.start,
                    entry(
                        name,
                        id,
                        a.confidence,
                        &a.bbox,
                        timed.then_some((a.start, a.end)),
                        "keypoints",
                    ),
                )
            })
            .collect();
        if let Some(ocr) = earlier.get("ocr") {
            entries.extend(wordmarks(&self.catalogue, ocr, threshold, timed));
        }
        entries.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok((
            "logos",
            Value::Array(entries.into_iter().map(|e| e.1).collect()),
        ))
    }
}

fn entry(
    name: &str,
    id: &str,
    confidence: f32,
    bbox: &Rect,
    span: Option<(f64, f64)>,
    method: &str,
) -> Value {
    let mut e = json!({
        "name": name,
        "logo_id": id,
        "confidence": round3(f64::from(confidence)),
        "bbox": bbox_json(bbox),
        "method": method,
    });
    if let Some((start, end)) = span {
        e["start"] = json!(round3(start));
        e["end"] = json!(round3(end));
    }
    e
}

/// Logo names spelled out in the text the `ocr` analyser read, each placed on its part of the
/// line and as sure as the reading times the spelling.
fn wordmarks(catalogue: &Catalogue, ocr: &Value, threshold: f32, timed: bool) -> Vec<(f64, Value)> {
    let mut out = Vec::new();
    let lines = ocr["detections"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for line in lines {
        let text = line["text"].as_str().unwrap_or_default();
        let read = line["confidence"].as_f64().unwrap_or(0.0) as f32;
        let b = &line["bbox"];
        let num = |k: &str| b[k].as_f64().unwrap_or(0.0) as f32;
        let (x, y, w, h) = (num("x"), num("y"), num("width"), num("height"));
        let start = line["start"].as_f64().unwrap_or(0.0);
        let end = line["end"].as_f64().unwrap_or(start);
        for (i, name) in catalogue.names() {
            let Some((s, e, spelled)) = wordmark::find(name, text) else {
                continue;
            };
            let confidence = read * spelled;
            if confidence < threshold {
                continue;
            }
            let bbox = Rect {
                x0: x + s * w,
                y0: y,
                x1: x + e * w,
                y1: y + h,
            };
            let (id, name) = catalogue.logo(i);
            out.push((
                start,
                entry(
                    name,
                    id,
                    confidence,
                    &bbox,
                    timed.then_some((start, end)),
                    "wordmark",
                ),
            ));
        }
    }
    out
}
