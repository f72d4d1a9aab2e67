//! The YAMNet int8 graph: one 96x64 log-mel patch in, 521 class scores out. The graph takes
//! and gives quantised bytes; the scales and zero points are its own initialisers.

use std::path::Path;
use std::time::{Duration, Instant};

use ort::value::TensorRef;

use super::mel::BANDS;
use crate::analysers::onnx::{self, Pooled};
use crate::analysers::AnalyseError;
use crate::models;

/// Frames in a patch (0.96 s).
pub const PATCH: usize = 96;
pub const CLASSES: usize = 521;

pub struct Yamnet {
    session: Pooled,
    input: Quant,
    output: Quant,
    bytes: Vec<u8>,
    /// Time spent in the model, for the log line that tells model from pipeline.
    pub busy: Duration,
}

#[derive(Clone, Copy)]
struct Quant {
    scale: f32,
    zero: f32,
}

fn failed(e: impl std::fmt::Display) -> AnalyseError {
    AnalyseError::Failed(e.to_string())
}

impl Yamnet {
    pub fn load(models_dir: &Path) -> Result<Yamnet, AnalyseError> {
        let path = models::path_of(models_dir, "yamnet").map_err(failed)?;
        models::path_of(models_dir, "yamnet-weights").map_err(failed)?;
        let [in_scale, in_zero, out_scale, out_zero] = models::onnx::scalars(
            &path,
            [
                "audio_scale",
                "audio_zero_point",
                "class_scores_scale",
                "class_scores_zero_point",
            ],
        )
        .map_err(failed)?;
        Ok(Yamnet {
            input: Quant {
                scale: in_scale,
                zero: in_zero,
            },
            output: Quant {
                scale: out_scale,
                zero: out_zero,
            },
            session: onnx::session(models_dir, &path)?,
            bytes: vec![0; PATCH * BANDS],
            busy: Duration::ZERO,
        })
    }

    /// Probabilities (0..1) of every class for one patch of `PATCH` frames.
    pub fn score<'a>(
        &mut self,
        frames: impl Iterator<Item = &'a [f32; BANDS]>,
    ) -> Result<Vec<f32>, AnalyseError> {
        let q = self.input;
        for (byte, v) in self.bytes.iter_mut().zip(frames.flatten()) {
            // Non-negative after the clamp, so adding a half and truncating rounds.
            *byte = ((v / q.scale + q.zero).clamp(0.0, 255.0) + 0.5) as u8;
        }
        let tensor = TensorRef::from_array_view(([1usize, 1, PATCH, BANDS], self.bytes.as_slice()))
            .map_err(failed)?;
        let began = Instant::now();
        let outputs = self
            .session
            .get()
            .run(ort::inputs!["audio" => tensor])
            .map_err(failed)?;
        self.busy += began.elapsed();
        let (_, raw) = outputs["class_scores"]
            .try_extract_tensor::<u8>()
            .map_err(failed)?;
        if raw.len() != CLASSES {
            return Err(failed(format!(
                "YAMNet gave {} scores, not {CLASSES}",
                raw.len()
            )));
        }
        let o = self.output;
        // The graph ends before YAMNet's sigmoid: its outputs are logits.
        Ok(raw
            .iter()
            .map(|b| 1.0 / (1.0 + (-(f32::from(*b) - o.zero) * o.scale).exp()))
            .collect())
    }
}

/// The AudioSet display names, in the model's class order.
pub fn labels(models_dir: &Path) -> Result<Vec<String>, AnalyseError> {
    let path = models::path_of(models_dir, "yamnet-classes").map_err(failed)?;
    let mut names = Vec::with_capacity(CLASSES);
    for row in csv::Reader::from_path(&path).map_err(failed)?.records() {
        let row = row.map_err(failed)?;
        names.push(row.get(2).unwrap_or_default().to_string());
    }
    if names.len() != CLASSES {
        return Err(failed(format!(
            "{} lists {} classes, not {CLASSES}",
            path.display(),
            names.len()
        )));
    }
    Ok(names)
}
