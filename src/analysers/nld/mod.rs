//! Descriptions (`nld`): one account per shot of a video, one for a picture, of who and
//! what the other analysers found there. No captioning model ships in a package registry,
//! so the text is composed from their detections and says so in `source`; a learned
//! captioner implements [`Describer`] and takes the composer's place.

mod compose;
mod english;
mod scene;

use std::time::Instant;

use serde_json::{json, Value};

use super::pipeline::{Analyser, Findings, Frame, Needs, SHOTS};
use super::{round3, AnalyseError, Input, Section};
use crate::media::MediaType;
pub use scene::{Kind, Scene};

pub const VERSION: &str = "detections-v1";

/// Writes the description of one scene.
pub trait Describer: Send {
    /// What the descriptions are made from, written as their `source`.
    fn source(&self) -> &'static str;
    /// Frames to look at (every `interval` seconds, at `max_side` pixels), if any; they come
    /// before the scenes are described.
    fn frames(&self) -> Option<(f64, u32)> {
        None
    }
    fn frame(&mut self, _frame: &Frame) -> Result<(), AnalyseError> {
        Ok(())
    }
    fn describe(&mut self, scene: &Scene) -> Result<String, AnalyseError>;
}

pub struct NldAnalyser {
    describer: Box<dyn Describer>,
    media: MediaType,
    duration: f64,
}

impl NldAnalyser {
    pub fn new(input: &Input) -> NldAnalyser {
        NldAnalyser {
            describer: Box::new(compose::Composer),
            media: input.media.media_type,
            duration: input.media.duration.unwrap_or(0.0),
        }
    }

    /// The spans described: the video's shots (the whole video when none were found), or
    /// the picture.
    fn spans(&self, earlier: &Findings) -> Vec<scene::Span> {
        if self.media != MediaType::Video {
            return vec![None];
        }
        let shots: Vec<scene::Span> = earlier
            .get(SHOTS)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| Some(Some((s["start"].as_f64()?, s["end"].as_f64()?))))
            .collect();
        if shots.is_empty() {
            vec![Some((0.0, self.duration))]
        } else {
            shots
        }
    }
}

impl Analyser for NldAnalyser {
    fn needs(&self) -> Needs {
        Needs {
            frames: self.describer.frames(),
            after_others: true,
            ..Needs::default()
        }
    }

    fn frame(&mut self, frame: &Frame) -> Result<(), AnalyseError> {
        self.describer.frame(frame)
    }

    fn finish(
        mut self: Box<Self>,
        _input: &Input,
        earlier: &Findings,
    ) -> Result<Section, AnalyseError> {
        let began = Instant::now();
        let found = scene::Found::read(earlier);
        let source = self.describer.source();
        let mut entries = Vec::new();
        for span in self.spans(earlier) {
            let text = self.describer.describe(&found.scene(span))?;
            let mut e = json!({"text": text, "source": source});
            if let Some((start, end)) = span {
                e["start"] = json!(round3(start));
                e["end"] = json!(round3(end));
            }
            entries.push(e);
        }
        tracing::debug!(
            descriptions = entries.len(),
            ms = began.elapsed().as_secs_f64() * 1e3,
            "descriptions composed"
        );
        Ok(("descriptions", Value::Array(entries)))
    }
}
