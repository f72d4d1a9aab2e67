//! Silero VAD 5: the probability that each 32 ms frame of 16 kHz audio is speech. The model is
//! recurrent: it carries a state and the last 64 samples of the previous frame into the next.

use std::path::Path;

use ort::value::TensorRef;

use super::level;
use super::windows::RATE;
use crate::analysers::onnx::{self, Pooled};
use crate::analysers::AnalyseError;
use crate::models;

/// Samples per frame at 16 kHz (32 ms), fixed by the model.
pub const FRAME: usize = 512;
const CONTEXT: usize = 64;
const STATE: usize = 2 * 128;
/// The model's `sr` input, a scalar.
const RATE_INPUT: [i64; 1] = [RATE as i64];
/// -80 dBFS.
const SILENT: f32 = 1e-4;
/// Per frame, the followed peak decays to half in about 5 s.
const PEAK_DECAY: f32 = 0.995_57;

pub struct Vad {
    session: Pooled,
    /// The previous frame's last samples, then the current frame.
    input: Vec<f32>,
    state: Vec<f32>,
    /// Recent peak level, followed so that quiet recordings are brought up to a level the
    /// model was trained on (it misses speech 40 dB down).
    peak: f32,
}

fn failed(e: impl std::fmt::Display) -> AnalyseError {
    AnalyseError::Failed(format!("voice activity detection: {e}"))
}

impl Vad {
    pub fn load(models_dir: &Path) -> Result<Vad, AnalyseError> {
        let path = models::path_of(models_dir, "silero-vad")
            .map_err(|e| AnalyseError::Failed(e.to_string()))?;
        Ok(Vad {
            session: onnx::session(models_dir, &path)?,
            input: vec![0.0; CONTEXT + FRAME],
            state: vec![0.0; STATE],
            peak: 0.0,
        })
    }

    /// Speech probability of the next frame. Digital silence (below -80 dBFS) is not speech
    /// and is not run through the model, so silent hours cost next to nothing; the model
    /// starts afresh after it, as at the start of a stream.
    pub fn frame(&mut self, samples: &[f32; FRAME]) -> Result<f32, AnalyseError> {
        if samples.iter().all(|s| s.abs() < SILENT) {
            self.input.fill(0.0);
            self.state.fill(0.0);
            return Ok(0.0);
        }
        self.peak = level::peak(samples).max(self.peak * PEAK_DECAY);
        let gain = level::gain(self.peak);
        self.input.copy_within(FRAME.., 0);
        for (to, from) in self.input[CONTEXT..].iter_mut().zip(samples) {
            *to = from * gain;
        }
        let input = TensorRef::from_array_view(([1usize, CONTEXT + FRAME], self.input.as_slice()))
            .map_err(failed)?;
        let state = TensorRef::from_array_view(([2usize, 1, 128], self.state.as_slice()))
            .map_err(failed)?;
        let rate = TensorRef::from_array_view(((), &RATE_INPUT[..])).map_err(failed)?;
        let outputs = self
            .session
            .get()
            .run(ort::inputs!["input" => input, "state" => state, "sr" => rate])
            .map_err(failed)?;
        let (_, p) = outputs["output"]
            .try_extract_tensor::<f32>()
            .map_err(failed)?;
        let p = p.first().copied().unwrap_or(0.0);
        let (_, next) = outputs["stateN"]
            .try_extract_tensor::<f32>()
            .map_err(failed)?;
        if next.len() != STATE {
            return Err(failed("the model returned a state of the wrong size"));
        }
        self.state.copy_from_slice(next);
        Ok(p)
    }
}
