//! The `s2t` service: Whisper base on whisper.cpp. Audio is screened frame by frame with a
//! voice activity detector as it is decoded; only the stretches that hold speech reach
//! Whisper, in windows of at most 28 s (see [`windows`]), so silence and music cost little
//! and produce no invented text, and memory stays bounded whatever the media's length.

mod level;
mod vad;
mod whisper;
mod windows;

use std::time::Instant;

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::pipeline::{Analyser, ComputePool, Findings, Needs};
use super::{round3, AnalyseError, Input, Section};
use crate::jobs::services::S2tConfig;
use crate::media::decode::AudioChunk;
use vad::{Vad, FRAME};
use whisper::{Segment, Whisper};
use windows::{Window, Windows};

/// What goes between words in `language`'s text: nothing in languages written without spaces.
pub fn joiner(language: &str) -> &'static str {
    if whisper::unspaced(language) {
        ""
    } else {
        " "
    }
}

pub const VERSION: &str = "whisper-base";

pub struct S2tAnalyser {
    config: S2tConfig,
    vad: Vad,
    whisper: Whisper,
    windows: Windows,
    cancel: CancellationToken,
    /// Samples not yet making a whole VAD frame.
    pending: Vec<f32>,
    /// Time of the first sample.
    origin: Option<f64>,
    /// Detected (or forced) language and its probability.
    language: Option<(String, f64)>,
    /// Segments with times from the first sample.
    segments: Vec<Segment>,
}

impl S2tAnalyser {
    pub fn new(config: S2tConfig, input: &Input) -> Result<S2tAnalyser, AnalyseError> {
        let language = (config.language != "auto").then(|| (config.language.clone(), 1.0));
        Ok(S2tAnalyser {
            vad: Vad::load(&input.models_dir)?,
            whisper: Whisper::load(&input.models_dir)?,
            windows: Windows::default(),
            cancel: input.cancel.clone(),
            pending: Vec::with_capacity(2 * FRAME),
            origin: None,
            language,
            segments: Vec::new(),
            config,
        })
    }

    /// Transcribe one window, detecting the language on the first one when it is `auto`.
    fn transcribe(&mut self, w: Window) -> Result<(), AnalyseError> {
        let pool = ComputePool::global();
        if self.language.is_none() {
            let whisper = &mut self.whisper;
            let began = Instant::now();
            let detected = pool.widen(pool.size(), |n| whisper.detect_language(&w.samples, n))?;
            tracing::debug!(
                language = detected.0,
                spent_ms = began.elapsed().as_secs_f64() * 1e3,
                "language detected"
            );
            self.language = Some(detected);
        }
        let began = Instant::now();
        let language = self.language.as_ref().map_or("", |l| l.0.as_str());
        let (whisper, cancel) = (&mut self.whisper, &self.cancel);
        let found = pool.widen(pool.size(), |n| {
            whisper.transcribe(&w.samples, language, n, cancel)
        });
        if self.cancel.is_cancelled() {
            return Err(AnalyseError::Cancelled);
        }
        let found = found?;
        tracing::debug!(
            start = w.stream_secs(0.0),
            secs = w.samples.len() as f64 / windows::RATE as f64,
            segments = found.len(),
            spent_ms = began.elapsed().as_secs_f64() * 1e3,
            "speech window transcribed"
        );
        self.segments
            .extend(found.into_iter().map(|s| in_stream(s, &w)));
        Ok(())
    }
}

/// A window's segment with times from the start of the stream.
fn in_stream(mut segment: Segment, w: &Window) -> Segment {
    segment.start = w.stream_secs(segment.start);
    segment.end = w.stream_secs(segment.end);
    for word in &mut segment.words {
        word.start = w.stream_secs(word.start);
        word.end = w.stream_secs(word.end);
    }
    segment
}

impl Analyser for S2tAnalyser {
    fn needs(&self) -> Needs {
        Needs::audio(self.config.audio_channel)
    }

    fn audio(&mut self, chunk: &AudioChunk) -> Result<(), AnalyseError> {
        self.origin.get_or_insert(chunk.start);
        self.pending.extend_from_slice(&chunk.samples);
        let whole = self.pending.len() / FRAME * FRAME;
        let mut closed = Vec::new();
        for frame in self.pending[..whole].chunks_exact(FRAME) {
            let frame = frame.try_into().expect("a whole frame");
            let p = self.vad.frame(frame)?;
            closed.extend(self.windows.push(frame, p));
        }
        self.pending.drain(..whole);
        closed.into_iter().try_for_each(|w| self.transcribe(w))
    }

    fn finish(
        mut self: Box<Self>,
        _input: &Input,
        _earlier: &Findings,
    ) -> Result<Section, AnalyseError> {
        if !self.pending.is_empty() {
            // The tail, padded with silence to a whole frame.
            let mut frame = [0.0; FRAME];
            frame[..self.pending.len()].copy_from_slice(&self.pending);
            let p = self.vad.frame(&frame)?;
            if let Some(w) = self.windows.push(&frame, p) {
                self.transcribe(w)?;
            }
        }
        if let Some(w) = self.windows.finish() {
            self.transcribe(w)?;
        }
        Ok(("speech_to_text", self.section()))
    }
}

impl S2tAnalyser {
    fn section(&self) -> Value {
        let origin = self.origin.unwrap_or(0.0);
        // With no word heard (silence, music), a detected language means nothing: it is
        // undetermined (ISO 639-2 `und`). A forced one is reported as given.
        let heard = !self.segments.is_empty() || self.config.language != "auto";
        let (language, confidence) = match &self.language {
            Some(l) if heard => l.clone(),
            _ => ("und".into(), 0.0),
        };
        let joiner = joiner(&language);
        let text = self
            .segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(joiner);
        let segments: Vec<Value> = self
            .segments
            .iter()
            .map(|s| {
                let words: Vec<Value> = s
                    .words
                    .iter()
                    .map(|w| {
                        json!({
                            "start": round3(origin + w.start),
                            "end": round3(origin + w.end),
                            "word": w.text,
                            "confidence": round3(w.confidence),
                        })
                    })
                    .collect();
                // Segments without words are dropped when they are read (whisper.rs).
                let confidence =
                    s.words.iter().map(|w| w.confidence).sum::<f64>() / s.words.len() as f64;
                json!({
                    "start": round3(origin + s.start),
                    "end": round3(origin + s.end),
                    "text": s.text,
                    "confidence": round3(confidence),
                    "words": words,
                })
            })
            .collect();
        json!({
            "language": language,
            "language_confidence": round3(confidence),
            "text": text,
            "segments": segments,
        })
    }
}
