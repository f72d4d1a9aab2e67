//! Cuts the audio into the windows Whisper transcribes: stretches that hold speech, each at
//! most 28 s (under Whisper's 30 s context, so one pass each). Pauses of up to 2 s stay inside
//! a window as they are, so a conversation of short turns flows into full windows; a longer
//! silence ends one, so silence and music cost no decoding. Speech longer than a window is cut
//! at its quietest frame near the end, which falls between words, so no word is split or
//! heard twice at a window edge. Memory holds at most about one window of audio whatever the
//! length of the media.
//!
//! Windows are not packed from pieces with the silences between them removed: Whisper's word
//! times near such joints were off by seconds, against a forced alignment.

use super::level;
use super::vad::FRAME;

pub const RATE: usize = 16_000;
/// Speech starts at this probability and, once started, lasts while above `STAY`
/// (Silero's own hysteresis).
const START: f32 = 0.5;
const STAY: f32 = 0.35;
/// Audio kept on each side of speech, so onsets and trailing consonants are whole.
const PAD: usize = RATE / 5;
/// A pause this long ends a window.
const GAP: usize = 2 * RATE;
/// Longest window, under Whisper's 30 s so it is decoded in one pass.
const MAX: usize = 28 * RATE;
/// Speech too long for a window is cut at its quietest frame within this much of its end.
const CUT_SEARCH: usize = 8 * RATE;
/// A window peaking below this (-10 dBFS) is brought up (see [`level`]).
const QUIET: f32 = 0.3;
/// A window is transcribed only if it holds this many frames (0.64 s) of clear speech: music
/// sets the detector off in short bursts (0.45 s in all in a window of the test suite's
/// jazz), and Whisper, given such a window, invents a word; two spoken words ("Front
/// center") hold about 0.8 s.
const MIN_CLEAR: usize = 20;

/// A stretch of the stream to transcribe.
#[derive(Debug)]
pub struct Window {
    /// Index of its first sample in the stream.
    start: usize,
    pub samples: Vec<f32>,
}

impl Window {
    /// Seconds from the start of the stream of a point `secs` into this window (kept inside
    /// it).
    pub fn stream_secs(&self, secs: f64) -> f64 {
        let at = (secs * RATE as f64).clamp(0.0, self.samples.len() as f64);
        (self.start as f64 + at) / RATE as f64
    }
}

#[derive(Default)]
pub struct Windows {
    /// Samples from stream index `buf_start`; the probability of each frame of them.
    buf: Vec<f32>,
    buf_start: usize,
    probs: Vec<f32>,
    /// Stream index where the open window starts, and its frames of clear speech.
    open: Option<usize>,
    clear: usize,
    /// Stream index just past the last speech frame.
    last_speech: usize,
    in_speech: bool,
}

impl Windows {
    /// Add one frame and its speech probability; returns a window when one is complete.
    pub fn push(&mut self, frame: &[f32; FRAME], p: f32) -> Option<Window> {
        let at = self.buf_start + self.buf.len();
        self.buf.extend_from_slice(frame);
        self.probs.push(p);
        self.in_speech = p >= if self.in_speech { STAY } else { START };
        let end = at + FRAME;
        if self.in_speech {
            self.open
                .get_or_insert(at.saturating_sub(PAD).max(self.buf_start));
            self.last_speech = end;
            self.clear += usize::from(p >= START);
        }
        let Some(start) = self.open else {
            self.trim(end.saturating_sub(PAD));
            return None;
        };
        if !self.in_speech && end - self.last_speech >= GAP {
            let done = self.close(start, self.last_speech + PAD);
            self.open = None;
            self.clear = 0;
            self.trim(end.saturating_sub(PAD));
            return done;
        }
        if end - start >= MAX {
            let cut = self.quietest(end - CUT_SEARCH, end);
            let done = self.close(start, cut);
            self.open = (self.last_speech > cut).then_some(cut);
            self.clear = self.clear_from(cut);
            self.trim(cut);
            return done;
        }
        None
    }

    /// The last window, when the stream ends.
    pub fn finish(&mut self) -> Option<Window> {
        let start = self.open.take()?;
        self.close(start, self.last_speech + PAD)
    }

    /// The stream from `start` to `end` (clipped to what is held), if it holds enough speech
    /// to be worth transcribing, brought up to a normal level when it is quiet: Whisper's
    /// features are log levels on a fixed scale, so speech 40 dB down reads to it as
    /// near-silence.
    fn close(&self, start: usize, end: usize) -> Option<Window> {
        if self.clear < MIN_CLEAR {
            return None;
        }
        let end = end.min(self.buf_start + self.buf.len());
        let mut samples = self.buf[start - self.buf_start..end - self.buf_start].to_vec();
        let peak = level::peak(&samples);
        if peak > 0.0 && peak < QUIET {
            let gain = level::gain(peak);
            samples.iter_mut().for_each(|s| *s *= gain);
        }
        Some(Window { start, samples })
    }

    /// Frames of clear speech held from stream index `from` on, which a window that
    /// continues after a cut carries over.
    fn clear_from(&self, from: usize) -> usize {
        let first = (from - self.buf_start) / FRAME;
        self.probs[first..].iter().filter(|&&p| p >= START).count()
    }

    /// Start index of the quietest frame (least energy; at or after `from`, before `to`): in
    /// continuous speech, the gap between two words. The latest of equals, so the window keeps
    /// as much as it can.
    fn quietest(&self, from: usize, to: usize) -> usize {
        let first = (from.max(self.buf_start) - self.buf_start).div_ceil(FRAME);
        let last = (to - self.buf_start) / FRAME;
        let energy = |i: usize| -> f32 {
            self.buf[i * FRAME..(i + 1) * FRAME]
                .iter()
                .map(|s| s * s)
                .sum()
        };
        let i = (first..last)
            .map(|i| (energy(i), i))
            .min_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
            .map_or(last, |(_, i)| i);
        self.buf_start + i * FRAME
    }

    /// Forget whole frames before stream index `keep`.
    fn trim(&mut self, keep: usize) {
        let frames = keep.saturating_sub(self.buf_start) / FRAME;
        if frames > 0 {
            self.buf.drain(..frames * FRAME);
            self.probs.drain(..frames);
            self.buf_start += frames * FRAME;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: usize = RATE / FRAME; // 31 frames (31.25)

    /// Run frames of the given levels and speech probabilities through the cutter; each
    /// window as (start, end) in frames.
    fn windows_of(frames: impl IntoIterator<Item = (f32, f32)>) -> Vec<(usize, usize)> {
        let mut w = Windows::default();
        let mut out = Vec::new();
        let extent = |w: Window| (w.start / FRAME, (w.start + w.samples.len()) / FRAME);
        for (level, p) in frames {
            out.extend(w.push(&[level; FRAME], p).map(extent));
        }
        out.extend(w.finish().map(extent));
        out
    }

    fn windows(probs: &[f32]) -> Vec<(usize, usize)> {
        windows_of(probs.iter().map(|&p| (0.5, p)))
    }

    const PAD_FRAMES: usize = PAD / FRAME; // 6 (6.25)

    #[test]
    fn silence_makes_no_window() {
        assert!(windows(&[0.1; 1000]).is_empty());
    }

    #[test]
    fn a_window_with_too_little_clear_speech_is_dropped() {
        let mut p = vec![0.0; 300];
        p[50..50 + MIN_CLEAR - 1].fill(0.9);
        assert!(windows(&p).is_empty());
        p[200..200 + MIN_CLEAR].fill(0.9);
        assert_eq!(windows(&p).len(), 1);
    }

    #[test]
    fn speech_is_padded_and_maps_back_to_the_stream() {
        let mut p = vec![0.0; 300];
        p[100..160].fill(0.9);
        assert_eq!(windows(&p), [(100 - PAD_FRAMES - 1, 160 + PAD_FRAMES)]);
        let w = Window {
            start: 3 * RATE,
            samples: vec![0.0; RATE],
        };
        assert_eq!(w.stream_secs(0.5), 3.5);
        assert_eq!(w.stream_secs(2.0), 4.0, "kept inside the window");
    }

    #[test]
    fn a_short_pause_stays_inside_a_window_and_a_long_one_ends_it() {
        let mut p = vec![0.0; 20 * SEC];
        p[SEC..3 * SEC].fill(0.9);
        p[4 * SEC..6 * SEC].fill(0.9); // one second later
        p[10 * SEC..12 * SEC].fill(0.9); // four seconds later
        let w = windows(&p);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].1 > 6 * SEC && w[0].1 < 7 * SEC, "{w:?}");
        assert!(w[1].0 > 9 * SEC, "{w:?}");
    }

    #[test]
    fn hysteresis_keeps_a_dip_inside_speech() {
        let mut p = vec![0.0; 10 * SEC];
        p[SEC..8 * SEC].fill(0.9);
        p[4 * SEC..6 * SEC].fill(0.4); // below START, above STAY
        assert_eq!(windows(&p).len(), 1);
    }

    #[test]
    fn continuous_speech_is_cut_at_its_quietest_frame_and_nothing_is_lost() {
        let n = 70 * SEC;
        // Loud speech with one near-silent frame (a gap between words) inside each cut
        // search range.
        let dips = [25 * SEC, 50 * SEC];
        let w = windows_of((0..n).map(|i| (if dips.contains(&i) { 0.001 } else { 0.5 }, 0.9)));
        assert_eq!(w, [(0, dips[0]), (dips[0], dips[1]), (dips[1], n)]);
        assert!(w.iter().all(|(s, e)| (e - s) * FRAME <= MAX));
    }
}
