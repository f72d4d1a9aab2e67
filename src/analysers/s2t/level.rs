//! Loudness: the voice detector and Whisper both read level on a fixed scale, so quiet
//! recordings are brought up to a normal peak before either hears them.

/// The peak level quiet audio is raised to (-6 dBFS).
const TARGET_PEAK: f32 = 0.5;
/// At most 40 dB of gain, so near-silent noise is not made loud.
const MAX_GAIN: f32 = 100.0;

/// The largest absolute sample.
pub fn peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0.0, |m, s| m.max(s.abs()))
}

/// Gain that brings audio peaking at `peak` up to the target; never below 1.
pub fn gain(peak: f32) -> f32 {
    (TARGET_PEAK / peak).clamp(1.0, MAX_GAIN)
}
