//! YAMNet's log-mel front end, streaming: 16 kHz mono in, one 64-band frame every 10 ms out.
//! It matches the reference the int8 export ships with (torchaudio `MelSpectrogram`): a 25 ms
//! periodic Hann window centred in a 512-point frame, no centre padding, magnitude spectrum,
//! 64 HTK mel triangles from 125 to 7500 Hz without normalisation, then `ln(mel + 1e-6)`.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

pub const RATE: f64 = 16_000.0;
pub const BANDS: usize = 64;
const FFT: usize = 512;
const WINDOW: usize = 400;
pub const HOP: usize = 160;
const BINS: usize = FFT / 2 + 1;
const LOW_HZ: f64 = 125.0;
const HIGH_HZ: f64 = 7500.0;
const LOG_OFFSET: f32 = 1e-6;

/// Seconds from the first sample of a frame to its centre.
pub const FRAME_CENTRE: f64 = FFT as f64 / 2.0 / RATE;

pub struct LogMel {
    fft: Arc<dyn RealToComplex<f32>>,
    /// The window, zero-padded to the frame length on both sides.
    window: Vec<f32>,
    /// Per band, the first bin and the weights from there.
    bands: Vec<(usize, Vec<f32>)>,
    pending: Vec<f32>,
    frame: Vec<f32>,
    spectrum: Vec<realfft::num_complex::Complex<f32>>,
    scratch: Vec<realfft::num_complex::Complex<f32>>,
    magnitude: Vec<f32>,
}

impl Default for LogMel {
    fn default() -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT);
        let pad = (FFT - WINDOW) / 2;
        let mut window = vec![0.0; FFT];
        for (n, w) in window[pad..pad + WINDOW].iter_mut().enumerate() {
            let phase = 2.0 * std::f64::consts::PI * n as f64 / WINDOW as f64;
            *w = (0.5 - 0.5 * phase.cos()) as f32;
        }
        LogMel {
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            frame: fft.make_input_vec(),
            fft,
            window,
            bands: mel_bands(),
            pending: Vec::new(),
            magnitude: vec![0.0; BINS],
        }
    }
}

/// The frame of digital silence.
pub fn silence() -> [f32; BANDS] {
    [LOG_OFFSET.ln(); BANDS]
}

fn hz_to_mel(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

fn mel_to_hz(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

/// Triangles on the Hz axis between mel-spaced corners, as torchaudio's `melscale_fbanks`.
fn mel_bands() -> Vec<(usize, Vec<f32>)> {
    let (lo, hi) = (hz_to_mel(LOW_HZ), hz_to_mel(HIGH_HZ));
    let corners: Vec<f64> = (0..BANDS + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (BANDS + 1) as f64))
        .collect();
    (0..BANDS)
        .map(|b| {
            let (left, centre, right) = (corners[b], corners[b + 1], corners[b + 2]);
            let weights: Vec<(usize, f32)> = (0..BINS)
                .filter_map(|k| {
                    let f = k as f64 * RATE / 2.0 / (BINS - 1) as f64;
                    let up = (f - left) / (centre - left);
                    let down = (right - f) / (right - centre);
                    let w = up.min(down);
                    (w > 0.0).then_some((k, w as f32))
                })
                .collect();
            let first = weights.first().map_or(0, |w| w.0);
            (first, weights.into_iter().map(|w| w.1).collect())
        })
        .collect()
}

impl LogMel {
    /// Feed samples; calls `out` with each complete frame, in order.
    pub fn push(&mut self, samples: &[f32], mut out: impl FnMut(&[f32; BANDS])) {
        self.pending.extend_from_slice(samples);
        let mut start = 0;
        let mut mel = [0f32; BANDS];
        while start + FFT <= self.pending.len() {
            for ((x, s), w) in self
                .frame
                .iter_mut()
                .zip(&self.pending[start..start + FFT])
                .zip(&self.window)
            {
                *x = s * w;
            }
            self.fft
                .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch)
                .expect("buffers sized by the planner");
            // Each bin feeds two bands: take its magnitude once (and without `hypot`'s
            // overflow care, which these magnitudes never need).
            for (m, c) in self.magnitude.iter_mut().zip(&self.spectrum) {
                *m = (c.re * c.re + c.im * c.im).sqrt();
            }
            for (m, (first, weights)) in mel.iter_mut().zip(&self.bands) {
                let energy: f32 = weights
                    .iter()
                    .zip(&self.magnitude[*first..])
                    .map(|(w, a)| w * a)
                    .sum();
                *m = (energy + LOG_OFFSET).ln();
            }
            out(&mel);
            start += HOP;
        }
        self.pending.drain(..start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(samples: &[f32]) -> Vec<[f32; BANDS]> {
        let mut mel = LogMel::default();
        let mut out = Vec::new();
        mel.push(samples, |f| out.push(*f));
        out
    }

    #[test]
    fn frame_count_and_chunking_match_one_pass() {
        let tone: Vec<f32> = (0..16_000)
            .map(|i| (i as f32 * 2.0 * std::f32::consts::PI * 1000.0 / 16_000.0).sin() * 0.5)
            .collect();
        let whole = frames(&tone);
        assert_eq!(whole.len(), 1 + (16_000 - FFT) / HOP);
        let mut mel = LogMel::default();
        let mut parts = Vec::new();
        for chunk in tone.chunks(333) {
            mel.push(chunk, |f| parts.push(*f));
        }
        assert_eq!(parts, whole);
    }

    #[test]
    fn a_tone_lights_the_band_around_its_frequency() {
        let tone: Vec<f32> = (0..4_000)
            .map(|i| (i as f32 * 2.0 * std::f32::consts::PI * 1000.0 / 16_000.0).sin())
            .collect();
        let f = frames(&tone)[0];
        let loudest = (0..BANDS).max_by(|a, b| f[*a].total_cmp(&f[*b])).unwrap();
        let (lo, hi) = (hz_to_mel(LOW_HZ), hz_to_mel(HIGH_HZ));
        let centre = mel_to_hz(lo + (hi - lo) * (loudest + 1) as f64 / (BANDS + 1) as f64);
        assert!((centre - 1000.0).abs() < 60.0, "band centre {centre} Hz");
        // Silence is the log offset.
        assert_eq!(frames(&[0.0; 1000])[0], silence());
    }
}
