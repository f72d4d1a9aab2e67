//! The `audiotag` service: YAMNet's 521 AudioSet classes over time. Audio is turned into
//! log-mel frames as it is decoded, each 0.96 s patch (every 0.48 s) is scored, and scores
//! become per-label segments; memory stays bounded whatever the media's length.

mod mel;
mod segments;
mod yamnet;

use std::collections::VecDeque;

use serde_json::json;

use super::pipeline::{Analyser, Findings, Needs};
use super::{round3, AnalyseError, Input, Section};
use crate::jobs::services::AudiotagConfig;
use crate::media::decode::AudioChunk;
use mel::{LogMel, BANDS, FRAME_CENTRE, HOP, RATE};
use segments::Segments;
use yamnet::{Yamnet, PATCH};

pub const VERSION: &str = "yamnet-int8-1";

/// Frames between patch starts (0.48 s).
const PATCH_HOP: usize = PATCH / 2;
const FRAME_SECS: f64 = HOP as f64 / RATE;
const HOP_SECS: f64 = PATCH_HOP as f64 * FRAME_SECS;

pub struct AudiotagAnalyser {
    config: AudiotagConfig,
    model: Yamnet,
    labels: Vec<String>,
    mel: LogMel,
    frames: VecDeque<[f32; BANDS]>,
    segments: Segments,
    /// Time of the first sample, and samples seen.
    origin: Option<f64>,
    samples: usize,
    patches: usize,
    /// End of the last scored patch.
    last_end: f64,
}

impl AudiotagAnalyser {
    pub fn new(config: AudiotagConfig, input: &Input) -> Result<AudiotagAnalyser, AnalyseError> {
        Ok(AudiotagAnalyser {
            segments: Segments::new(config.min_confidence as f32),
            config,
            model: Yamnet::load(&input.models_dir)?,
            labels: yamnet::labels(&input.models_dir)?,
            mel: LogMel::default(),
            frames: VecDeque::with_capacity(PATCH + PATCH_HOP),
            origin: None,
            samples: 0,
            patches: 0,
            last_end: 0.0,
        })
    }

    /// Score the patch at the front of `frames` and slide by one hop.
    fn score_front(&mut self) -> Result<(), AnalyseError> {
        let scores = self.model.score(self.frames.iter().take(PATCH))?;
        let origin = self.origin.unwrap_or(0.0);
        // A patch scores a sound once it fills about a quarter of it, so the patches that
        // hit reach past the sound on both sides; a segment therefore runs from a quarter hop
        // before its first patch's centre to a quarter hop after its last one's (measured on
        // real speech onsets; see docs/services.md). The first patch reaches back to the start.
        let centre = origin
            + self.patches as f64 * HOP_SECS
            + ((PATCH - 1) as f64 * FRAME_SECS) / 2.0
            + FRAME_CENTRE;
        let start = if self.patches == 0 {
            origin
        } else {
            centre - HOP_SECS / 4.0
        };
        self.last_end = centre + HOP_SECS / 4.0;
        self.segments
            .push(self.patches, start, self.last_end, &scores);
        self.patches += 1;
        self.frames.drain(..PATCH_HOP.min(self.frames.len()));
        Ok(())
    }
}

impl Analyser for AudiotagAnalyser {
    fn needs(&self) -> Needs {
        Needs::audio(self.config.audio_channel)
    }

    fn audio(&mut self, chunk: &AudioChunk) -> Result<(), AnalyseError> {
        self.origin.get_or_insert(chunk.start);
        self.samples += chunk.samples.len();
        let frames = &mut self.frames;
        self.mel.push(&chunk.samples, |f| frames.push_back(*f));
        while self.frames.len() >= PATCH {
            self.score_front()?;
        }
        Ok(())
    }

    fn finish(
        mut self: Box<Self>,
        _input: &Input,
        _earlier: &Findings,
    ) -> Result<Section, AnalyseError> {
        let origin = self.origin.unwrap_or(0.0);
        let end = origin + self.samples as f64 / RATE;
        if self.patches == 0 && self.samples > 0 {
            // Shorter than one patch: pad with silence.
            self.frames.resize(PATCH, mel::silence());
            self.score_front()?;
        }
        tracing::debug!(
            patches = self.patches,
            model_ms = self.model.busy.as_secs_f64() * 1e3,
            "audio classified"
        );
        let mut entries = Vec::new();
        for s in self.segments.finish() {
            // The last patch stands for the tail of the media too.
            let last = s.end >= self.last_end;
            entries.push(json!({
                "label": self.labels[s.label],
                "confidence": round3(f64::from(s.confidence)),
                "start": round3(s.start.max(origin)),
                "end": round3(if last { end } else { s.end.min(end) }),
            }));
        }
        Ok(("audio_classifications", serde_json::Value::Array(entries)))
    }
}
