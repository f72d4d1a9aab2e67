//! The `face` service: faces found with dlib's HOG detector, aligned on five landmarks and
//! embedded with dlib's ResNet (128-d), followed across frames, grouped into the people of the
//! job and named from the submitting user's face gallery.

mod dlib;
pub mod people;
mod track;

use serde_json::{json, Value};

use super::pipeline::{Analyser, Findings, Frame, Needs};
use super::rect::{bbox_json, Rect};
use super::{round3, AnalyseError, Input, Section};
use crate::jobs::services::FaceConfig;
use crate::media::MediaType;
pub use dlib::{Dlib, Found, Picture};
use track::{Face, Track, Tracker};

pub const VERSION: &str = "dlib-19.24-hog+resnet-v1";

/// Video frames are analysed at most this wide: 720p stays native, where the detector finds
/// faces from 80 pixels high (a ninth of the frame).
const VIDEO_SIDE: u32 = 1280;
/// Images are read at most this large on their long side.
const IMAGE_SIDE: u32 = 1600;
/// Images up to this long side are searched at twice their size, for faces down to 40 pixels
/// (what the `face_recognition` package does by default).
const UPSAMPLE_UP_TO: u32 = 1000;
/// Faces smaller than this (pixels of the analysed picture) are reported but not embedded:
/// the embedding network works on 150-pixel chips, and below this it does not tell people
/// apart reliably.
pub const MIN_EMBED_SIDE: f32 = 40.0;

/// A face embedding: faces of one person lie within 0.6 of each other.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding(pub [f32; 128]);

impl Embedding {
    fn from_f64(values: &[f64]) -> Embedding {
        let mut e = [0f32; 128];
        e.iter_mut().zip(values).for_each(|(o, v)| *o = *v as f32);
        Embedding(e)
    }

    pub fn distance(&self, other: &Embedding) -> f32 {
        self.distance_to(&other.0)
    }

    fn distance_to(&self, other: &[f32]) -> f32 {
        self.0
            .iter()
            .zip(other)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt()
    }

    fn mean(all: &[Embedding]) -> Option<Embedding> {
        let n = all.len() as f32;
        let first = all.first()?;
        let mut m = first.0;
        for e in &all[1..] {
            m.iter_mut().zip(&e.0).for_each(|(s, v)| *s += v);
        }
        m.iter_mut().for_each(|s| *s /= n);
        Some(Embedding(m))
    }

    /// Little-endian bytes, as the store keeps it.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Embedding> {
        if bytes.len() != 128 * 4 {
            return None;
        }
        let mut e = [0f32; 128];
        for (o, c) in e.iter_mut().zip(bytes.chunks_exact(4)) {
            *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        Some(Embedding(e))
    }
}

/// One photo of a named person in a face gallery.
#[derive(Debug, Clone)]
pub struct KnownFace {
    pub name: String,
    pub embedding: Embedding,
}

/// Detection confidence from dlib's SVM margin: a logistic that puts dlib's own threshold
/// (margin 0) at 0.5, so the default `min_confidence` finds what dlib finds.
fn confidence(score: f32) -> f32 {
    1.0 / (1.0 + (-2.0 * score).exp())
}

/// The margin a detection needs to reach confidence `c` (the inverse of [`confidence`]),
/// floored where dlib's detector returns mostly noise.
fn margin(c: f64) -> f64 {
    let c = c.clamp(1e-3, 1.0 - 1e-3);
    ((c / (1.0 - c)).ln() / 2.0).max(-1.0)
}

/// Why a photo cannot be enrolled in a face gallery.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EnrolError {
    #[error("no face found in the photo")]
    NoFace,
    #[error("the photo shows {0} faces; a gallery photo must show exactly one")]
    SeveralFaces(usize),
    #[error("the face is {0} pixels across; at least {MIN_EMBED_SIDE} are needed to recognise it")]
    TooSmall(u32),
    #[error("{0}")]
    Unreadable(String),
}

/// Faces in one picture, searched at twice its size when it is small (as for a job's images).
fn detect(
    dlib: &mut Dlib,
    picture: &Picture,
    image: &image::RgbImage,
    min_confidence: f64,
    still: bool,
) -> Result<Vec<Found>, AnalyseError> {
    let upsample = still && image.width().max(image.height()) <= UPSAMPLE_UP_TO;
    dlib.detect(picture, upsample, margin(min_confidence))
}

/// The embedding of the one face in a gallery photo, read as a job reads an image.
pub fn enrol(dlib: &mut Dlib, photo: &std::path::Path) -> Result<Embedding, EnrolError> {
    let decoded =
        crate::media::image::load(photo).map_err(|e| EnrolError::Unreadable(e.to_string()))?;
    let image = &crate::media::image::fit_rgb(&decoded, IMAGE_SIDE);
    let picture = Picture::new(image);
    let found = detect(
        dlib,
        &picture,
        image,
        FaceConfig::default().min_confidence,
        true,
    )
    .map_err(|e| EnrolError::Unreadable(e.to_string()))?;
    match found.as_slice() {
        [] => Err(EnrolError::NoFace),
        [f] if f.side() < MIN_EMBED_SIDE => Err(EnrolError::TooSmall(f.side() as u32)),
        [_] => Ok(dlib.embed(&picture, &found).remove(0)),
        many => Err(EnrolError::SeveralFaces(many.len())),
    }
}

pub struct FaceAnalyser {
    config: FaceConfig,
    media: MediaType,
    dlib: Dlib,
    tracker: Tracker,
    gallery: Vec<KnownFace>,
}

impl FaceAnalyser {
    pub fn new(config: FaceConfig, input: &Input) -> Result<Self, AnalyseError> {
        Ok(FaceAnalyser {
            dlib: Dlib::load(&input.models_dir)?,
            media: input.media.media_type,
            tracker: Tracker::default(),
            gallery: input.faces.clone().map_err(AnalyseError::Failed)?,
            config,
        })
    }
}

fn normalised(f: &Found, width: u32, height: u32) -> Rect {
    Rect {
        x0: f.left,
        y0: f.top,
        x1: f.right,
        y1: f.bottom,
    }
    .scaled(1.0 / width as f32, 1.0 / height as f32)
}

impl Analyser for FaceAnalyser {
    fn needs(&self) -> Needs {
        let side = match self.media {
            MediaType::Video => VIDEO_SIDE,
            _ => IMAGE_SIDE,
        };
        Needs {
            frames: Some((self.config.frame_interval, side)),
            ..Needs::default()
        }
    }

    fn frame(&mut self, frame: &Frame) -> Result<(), AnalyseError> {
        let image = &frame.image;
        let picture = Picture::new(image);
        let still = self.media == MediaType::Image;
        let found = detect(
            &mut self.dlib,
            &picture,
            image,
            self.config.min_confidence,
            still,
        )?;
        let faces: Vec<Face> = found
            .iter()
            .map(|f| Face {
                rect: normalised(f, image.width(), image.height()),
                confidence: confidence(f.score),
                embeddable: f.side() >= MIN_EMBED_SIDE,
            })
            .collect();
        let dlib = &mut self.dlib;
        self.tracker
            .frame(frame.time, frame.shot_start, &faces, |wanted| {
                let chosen: Vec<Found> = wanted.iter().map(|&i| found[i]).collect();
                dlib.embed(&picture, &chosen)
            });
        Ok(())
    }

    fn finish(
        self: Box<Self>,
        _input: &Input,
        _earlier: &Findings,
    ) -> Result<Section, AnalyseError> {
        let tracks = self.tracker.finish();
        let embeddings: Vec<Vec<Embedding>> = tracks.iter().map(|t| t.embeddings.clone()).collect();
        let mut people = people::group(&embeddings);
        let threshold = self.config.rec_confidence_threshold as f32;
        for p in &mut people {
            let all: Vec<&Embedding> = p
                .tracks
                .iter()
                .flat_map(|&t| &tracks[t].embeddings)
                .collect();
            p.name = people::name(&all, &self.gallery, threshold);
        }
        Ok((
            "faces",
            section(
                &tracks,
                &people,
                (self.media == MediaType::Video).then_some(self.config.frame_interval),
            ),
        ))
    }
}

/// The `faces` section: people with their appearances, and each followed face. `interval`
/// is the video's sampling interval (None for an image): a person seen in consecutive samples
/// is on screen throughout, across a cut too, so that is one appearance.
fn section(tracks: &[Track], people: &[people::Person], interval: Option<f64>) -> Value {
    let timed = interval.is_some();
    let gap = interval.unwrap_or(0.0) + 1e-6;
    let mut person_of = vec![String::new(); tracks.len()];
    let mut listed = Vec::new();
    for (n, p) in people.iter().enumerate() {
        let id = format!("person_{}", n + 1);
        let mut spans: Vec<(f64, f64)> = p
            .tracks
            .iter()
            .map(|&t| (tracks[t].start, tracks[t].end))
            .collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::new();
        for (s, e) in spans {
            match merged.last_mut() {
                Some(last) if s <= last.1 + gap => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let appearances: Vec<Value> = if timed {
            merged
                .iter()
                .map(|(s, e)| json!({"start": round3(*s), "end": round3(*e)}))
                .collect()
        } else {
            Vec::new()
        };
        for &t in &p.tracks {
            person_of[t] = id.clone();
        }
        listed.push(json!({
            "person_id": id,
            "name": p.name,
            "known": p.name.is_some(),
            "appearances": appearances,
        }));
    }
    let detections: Vec<Value> = tracks
        .iter()
        .zip(&person_of)
        .map(|(t, id)| {
            let mut d = json!({
                "person_id": id,
                "confidence": round3(f64::from(t.confidence)),
                "bbox": bbox_json(&t.rect),
            });
            if timed {
                d["start"] = json!(round3(t.start));
                d["end"] = json!(round3(t.end));
            }
            d
        })
        .collect();
    json!({"people": listed, "detections": detections})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_is_half_at_dlibs_threshold_and_min_confidence_inverts_it() {
        assert!((confidence(0.0) - 0.5).abs() < 1e-6);
        assert!(confidence(1.0) > 0.85 && confidence(-1.0) < 0.15);
        for c in [0.3, 0.5, 0.8] {
            assert!((f64::from(confidence(margin(c) as f32)) - c).abs() < 1e-4);
        }
        assert_eq!(margin(0.0), -1.0, "floored where dlib finds mostly noise");
    }

    #[test]
    fn embeddings_round_trip_through_the_stores_bytes() {
        let mut e = [0f32; 128];
        e.iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = i as f32 / 100.0 - 0.5);
        let e = Embedding(e);
        assert_eq!(Embedding::from_bytes(&e.to_bytes()), Some(e));
        assert_eq!(Embedding::from_bytes(&[0; 12]), None);
    }
}
