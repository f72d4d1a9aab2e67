//! Cuts the audio into the windows Whisper transcribes. Speech is found frame by frame;
//! each stretch of speech (with a little audio either side) is a piece, and consecutive
//! pieces are packed into one window of at most 28 s with the pauses between them left out.
//! Whisper's encoder costs the same for 1 s as for 30 s, so packing makes a conversation of
//! short turns cost about what continuous speech does, and silence or music costs nothing.
//! Continuous speech longer than a window is cut at its quietest frame near the end, which
//! falls between words, so no word is split or heard twice at a window edge. Memory holds at
//! most about two windows of audio whatever the length of the media.

use super::vad::FRAME;

pub const RATE: usize = 16_000;
/// Speech starts at this probability and, once started, lasts while above `STAY`
/// (Silero's own hysteresis).
const START: f32 = 0.5;
const STAY: f32 = 0.35;
/// Audio kept on each side of speech, so onsets and trailing consonants are whole.
const PAD: usize = RATE / 5;
/// A pause this long ends a piece.
const GAP: usize = RATE;
/// Longest window, under Whisper's 30 s so it is decoded in one pass.
const MAX: usize = 28 * RATE;
/// A new piece opens a new window when the packed one has less room than this.
const ROOM: usize = 5 * RATE;
/// Speech too long for a window is cut at its quietest frame within this much of its end.
const CUT_SEARCH: usize = 8 * RATE;
/// A window peaking below this (-10 dBFS) is raised to `TARGET_PEAK`, by at most `MAX_GAIN`.
const QUIET: f32 = 0.3;
const TARGET_PEAK: f32 = 0.5;
const MAX_GAIN: f32 = 100.0;
/// Windows with less speech than this are noise (a click, a cough).
const MIN_SPEECH: usize = RATE / 4;

/// Audio to transcribe: pieces of the stream laid end to end.
#[derive(Debug, Default)]
pub struct Window {
    pub samples: Vec<f32>,
    /// Where each piece starts: (index in `samples`, index in the stream).
    pieces: Vec<(usize, usize)>,
    speech: usize,
}

impl Window {
    /// Seconds from the start of the stream of a point `secs` into this window.
    pub fn stream_secs(&self, secs: f64) -> f64 {
        let at = (secs * RATE as f64).max(0.0);
        let (packed, stream) = self
            .pieces
            .iter()
            .rev()
            .find(|(p, _)| *p as f64 <= at)
            .or(self.pieces.first())
            .copied()
            .unwrap_or_default();
        (stream as f64 + at - packed as f64) / RATE as f64
    }

    fn add(&mut self, stream_at: usize, samples: &[f32]) {
        self.pieces.push((self.samples.len(), stream_at));
        self.samples.extend_from_slice(samples);
    }
}

#[derive(Default)]
pub struct Windows {
    /// Samples from stream index `buf_start`; the probability of each frame of them.
    buf: Vec<f32>,
    buf_start: usize,
    probs: Vec<f32>,
    /// The window being packed, and where the piece being heard starts in the stream.
    packed: Window,
    piece: Option<usize>,
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
        let mut done = None;
        if self.in_speech {
            if self.piece.is_none() {
                self.piece = Some(at.saturating_sub(PAD).max(self.buf_start));
                if self.packed.samples.len() + ROOM > MAX {
                    done = self.take();
                }
            }
            self.last_speech = end;
            self.packed.speech += FRAME;
        }
        let Some(start) = self.piece else {
            self.trim(end.saturating_sub(PAD));
            return done;
        };
        if !self.in_speech && end - self.last_speech >= GAP {
            self.end_piece(start, self.last_speech + PAD);
            self.piece = None;
            self.trim(end.saturating_sub(PAD));
        } else if self.packed.samples.len() + (end - start) >= MAX {
            if end - start < CUT_SEARCH {
                // A short piece moves whole to the next window.
                done = self.take();
                self.packed.speech = self.speech_from(start);
            } else {
                let cut = self.quietest(end - CUT_SEARCH, end);
                self.end_piece(start, cut);
                done = self.take();
                self.piece = (self.last_speech > cut).then_some(cut);
                self.packed.speech = self.speech_from(cut);
                self.trim(cut);
            }
        }
        done
    }

    /// The last window, when the stream ends.
    pub fn finish(&mut self) -> Option<Window> {
        if let Some(start) = self.piece.take() {
            self.end_piece(start, self.last_speech + PAD);
        }
        self.take()
    }

    /// Copy the stream from `start` to `end` (clipped to what is held) into the window.
    fn end_piece(&mut self, start: usize, end: usize) {
        let end = end.min(self.buf_start + self.buf.len());
        let (from, to) = (start - self.buf_start, end - self.buf_start);
        self.packed.add(start, &self.buf[from..to]);
    }

    /// The packed window, if it holds enough speech to be worth transcribing, brought up to
    /// a normal level when it is quiet: Whisper's features are log levels on a fixed scale,
    /// so speech 40 dB down reads to it as near-silence.
    fn take(&mut self) -> Option<Window> {
        let mut window = std::mem::take(&mut self.packed);
        if window.speech < MIN_SPEECH || window.samples.is_empty() {
            return None;
        }
        let peak = window.samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        if peak > 0.0 && peak < QUIET {
            let gain = (TARGET_PEAK / peak).min(MAX_GAIN);
            window.samples.iter_mut().for_each(|s| *s *= gain);
        }
        Some(window)
    }

    /// Speech held from stream index `from` on, which a new window carries over.
    fn speech_from(&self, from: usize) -> usize {
        let first = (from - self.buf_start) / FRAME;
        self.probs[first..].iter().filter(|&&p| p >= STAY).count() * FRAME
    }

    /// Start index of the frame (at or after `from`, before `to`) least likely to be speech;
    /// the latest of equals, so the window keeps as much as it can.
    fn quietest(&self, from: usize, to: usize) -> usize {
        let first = (from.max(self.buf_start) - self.buf_start).div_ceil(FRAME);
        let last = (to - self.buf_start) / FRAME;
        let i = (first..last)
            .min_by(|&a, &b| self.probs[a].total_cmp(&self.probs[b]).then(b.cmp(&a)))
            .unwrap_or(last);
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

    /// Run frames with the given speech probabilities through the cutter; each frame's
    /// samples hold its own index, so each window's pieces can be read back in frames.
    fn windows(probs: &[f32]) -> Vec<Window> {
        let mut w = Windows::default();
        let mut out = Vec::new();
        for (i, &p) in probs.iter().enumerate() {
            out.extend(w.push(&[i as f32; FRAME], p));
        }
        out.extend(w.finish());
        out
    }

    /// The stream frames a window holds, as (first, last + 1) runs.
    fn runs(w: &Window) -> Vec<(usize, usize)> {
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for f in w.samples.chunks(FRAME).map(|c| c[0] as usize) {
            match runs.last_mut() {
                Some(r) if r.1 == f => r.1 += 1,
                _ => runs.push((f, f + 1)),
            }
        }
        runs
    }

    #[test]
    fn silence_makes_no_window() {
        assert!(windows(&[0.1; 1000]).is_empty());
    }

    #[test]
    fn a_blip_shorter_than_a_word_is_dropped() {
        let mut p = vec![0.0; 100];
        p[50] = 0.9;
        assert!(windows(&p).is_empty());
    }

    #[test]
    fn speech_is_padded_and_short_turns_pack_into_one_window_without_the_pauses() {
        let mut p = vec![0.0; 60 * SEC];
        p[10 * SEC..12 * SEC].fill(0.9);
        p[30 * SEC..31 * SEC].fill(0.9); // 18 s later
        p[50 * SEC..53 * SEC].fill(0.9);
        let w = windows(&p);
        assert_eq!(w.len(), 1);
        let pad = PAD / FRAME + 1; // the pad, rounded out to whole frames
        let r = runs(&w[0]);
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!(r[0], (10 * SEC - pad, 12 * SEC + pad - 1));
        // Times map back through the pieces.
        let secs = |i: usize| i as f64 / RATE as f64;
        let (packed, stream) = w[0].pieces[1];
        assert_eq!(stream, 30 * SEC * FRAME - PAD);
        assert_eq!(w[0].stream_secs(secs(packed) + 0.5), secs(stream) + 0.5);
    }

    #[test]
    fn hysteresis_keeps_a_dip_inside_speech() {
        let mut p = vec![0.0; 10 * SEC];
        p[SEC..8 * SEC].fill(0.9);
        p[4 * SEC..6 * SEC].fill(0.4); // below START, above STAY
        assert_eq!(runs(&windows(&p)[0]).len(), 1);
    }

    #[test]
    fn continuous_speech_is_cut_at_its_quietest_frame_and_nothing_is_lost() {
        let n = 70 * SEC;
        let mut p = vec![0.9; n];
        // One breath (a dip that does not end speech) inside each cut search range.
        let dips = [25 * SEC, 50 * SEC];
        for d in dips {
            p[d] = 0.4;
        }
        let w = windows(&p);
        assert_eq!(w.len(), 3);
        let r: Vec<(usize, usize)> = w.iter().flat_map(runs).collect();
        assert_eq!(r, [(0, dips[0]), (dips[0], dips[1]), (dips[1], n)]);
        assert!(w.iter().all(|w| w.samples.len() <= MAX));
    }

    #[test]
    fn a_turn_that_does_not_fit_moves_whole_to_the_next_window() {
        let mut p = vec![0.0; 60 * SEC];
        p[SEC..21 * SEC].fill(0.9); // 20 s
        p[25 * SEC..33 * SEC].fill(0.9); // 8 s more would pass 28 s
        let w = windows(&p);
        assert_eq!(w.len(), 2);
        assert_eq!(runs(&w[0]).len(), 1);
        assert_eq!(runs(&w[1]).len(), 1);
    }
}
