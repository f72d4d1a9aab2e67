//! Text over time: a caption that stays on screen is one detection from its first to its last
//! frame, and work is only spent on what changed. A frame that looks like the last one costs a
//! thumbnail comparison; otherwise lines are found again, and a line whose pixels match a line
//! already on screen keeps that line's reading without running the recogniser.

use image::RgbImage;

use super::geometry::Rect;
use super::reader::{Reader, Scale};
use super::recognise::{self, Crop};
use crate::analysers::follow;
use crate::analysers::still::{grey, most_changed_block, StillCheck, BLOCK};
use crate::analysers::AnalyseError;
use crate::media::image::resize_rgb;

/// A line's signature: its crop in grey at this height (a third of the recogniser's), so a
/// character spans a few blocks.
const SIG_HEIGHT: u32 = 16;
/// Mean absolute difference (0..255, after removing each signature's mean) of the most
/// different block, under which two crops show the same text.
const SAME_TEXT: f32 = 16.0;
/// Boxes overlapping at least this much (intersection over union) are the same place.
const SAME_PLACE: f32 = 0.5;
/// A line not found in this many analysed frames in a row has left the screen. One miss is
/// forgiven: the detector can lose a line for a frame under a transition.
const GONE_AFTER: u32 = 2;

/// A line on screen over a span of time.
#[derive(Debug, Clone)]
pub struct Appearance {
    pub text: String,
    pub confidence: f32,
    /// Normalised to the frame.
    pub bbox: Rect,
    pub start: f64,
    pub end: f64,
}

struct Track {
    seen: Appearance,
    signature: Signature,
    missed: u32,
}

/// What the tracker did, for the benchmark and the logs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Work {
    pub frames: u64,
    pub still_frames: u64,
    pub lines_read: u64,
    pub lines_reused: u64,
}

pub struct Tracker {
    scale: Scale,
    min_confidence: f32,
    live: Vec<Track>,
    done: Vec<Appearance>,
    still: StillCheck,
    pub work: Work,
}

impl Tracker {
    pub fn new(scale: Scale, min_confidence: f32) -> Tracker {
        Tracker {
            scale,
            min_confidence,
            live: Vec::new(),
            done: Vec::new(),
            still: StillCheck::default(),
            work: Work::default(),
        }
    }

    /// Take the frame shown at `time`. `fresh` marks a new shot: the frame is analysed even if
    /// its thumbnail looks like the last one (lines on screen may still carry across the cut).
    pub fn frame(
        &mut self,
        reader: &mut Reader,
        image: &RgbImage,
        time: f64,
        fresh: bool,
    ) -> Result<(), AnalyseError> {
        self.work.frames += 1;
        if self.still.unchanged(image, fresh) {
            self.work.still_frames += 1;
            for t in &mut self.live {
                if t.missed == 0 {
                    t.seen.end = time;
                }
            }
            return Ok(());
        }

        let regions = reader.find(image, self.scale)?;
        // Each region, and the track showing the same pixels if one does; only the others
        // are read.
        let mut found: Vec<(Rect, Signature, Option<usize>)> = Vec::new();
        let mut unread: Vec<Crop> = Vec::new();
        for r in &regions {
            let crop = recognise::crop(image, &r.quad);
            let bbox = r.quad.normalised(image.width(), image.height());
            let same = self
                .live
                .iter()
                .position(|t| t.seen.bbox.iou(&bbox) >= SAME_PLACE && t.signature.matches(&crop));
            found.push((bbox, Signature::of(&crop), same));
            if same.is_none() {
                unread.push(crop);
            }
        }
        let mut readings = reader.read(&mut unread)?.into_iter();
        self.work.lines_read += unread.len() as u64;
        self.work.lines_reused += (found.len() - unread.len()) as u64;

        let mut seen_now = vec![false; self.live.len()];
        for (bbox, sig, same) in found {
            let at = match same {
                Some(i) => i,
                None => {
                    let Some(r) = readings.next() else { continue };
                    if !r.legible(self.min_confidence) {
                        continue;
                    }
                    // Read again but unchanged in what it says: the same line.
                    let again = self.live.iter().position(|t| {
                        t.seen.bbox.iou(&bbox) >= SAME_PLACE && t.seen.text == r.text
                    });
                    let Some(i) = again else {
                        self.live.push(Track {
                            seen: Appearance {
                                text: r.text,
                                confidence: r.confidence,
                                bbox,
                                start: time,
                                end: time,
                            },
                            signature: sig,
                            missed: 0,
                        });
                        seen_now.push(true);
                        continue;
                    };
                    i
                }
            };
            let t = &mut self.live[at];
            t.seen.end = time;
            t.missed = 0;
            t.signature = sig;
            seen_now[at] = true;
        }
        let done = &mut self.done;
        follow::age(
            &mut self.live,
            seen_now,
            GONE_AFTER,
            |t| &mut t.missed,
            |t| done.push(t.seen),
        );
        Ok(())
    }

    /// Every appearance, in order of first sight.
    pub fn finish(mut self) -> Vec<Appearance> {
        self.done.extend(self.live.into_iter().map(|t| t.seen));
        self.done.sort_by(|a, b| {
            a.start
                .total_cmp(&b.start)
                .then(a.bbox.y0.total_cmp(&b.bbox.y0))
        });
        self.done
    }
}

/// What a line looks like: its crop in grey, small, less its mean, so the same text under a
/// slightly brighter or darker picture still matches.
struct Signature {
    values: Vec<f32>,
    width: u32,
}

impl Signature {
    fn of(crop: &Crop) -> Signature {
        Signature::sized(crop, (crop.0.width() / 3).max(BLOCK as u32))
    }

    fn sized(crop: &Crop, width: u32) -> Signature {
        let mut values = grey(&resize_rgb(&crop.0, width, SIG_HEIGHT));
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        values.iter_mut().for_each(|v| *v -= mean);
        Signature { values, width }
    }

    /// Whether `crop` shows the same text: about the same length, and no part of it changed.
    fn matches(&self, crop: &Crop) -> bool {
        let width = (crop.0.width() / 3).max(BLOCK as u32);
        if width.abs_diff(self.width) as f32 > (0.04 * self.width as f32).max(1.0) {
            return false;
        }
        let other = Signature::sized(crop, self.width);
        most_changed_block(&self.values, &other.values, self.width as usize) < SAME_TEXT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn text(words: &str, lift: u8) -> Crop {
        // Each character a distinct bar pattern, 24 pixels wide, on a light ground.
        let chars: Vec<u32> = words.bytes().map(u32::from).collect();
        Crop(RgbImage::from_fn(24 * chars.len() as u32, 48, |x, y| {
            let c = chars[(x / 24) as usize];
            let ink = (10..38).contains(&y) && ((x % 24) * 7 / 24 + c).is_multiple_of(3);
            let v = if ink { 20 } else { 200 } + lift;
            Rgb([v, v, v])
        }))
    }

    #[test]
    fn signatures_match_the_same_text_brighter_and_not_one_changed_character() {
        let a = Signature::of(&text("Story 1 of twenty", 0));
        assert!(a.matches(&text("Story 1 of twenty", 30)));
        assert!(!a.matches(&text("Story 2 of twenty", 0)));
        assert!(!a.matches(&text("Story 1 of twenty-one", 0)));
    }
}
