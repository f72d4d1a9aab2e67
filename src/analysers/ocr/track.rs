//! Text over time: a caption that stays on screen is one detection from its first to its last
//! frame, and work is only spent on what changed. A frame that looks like the last one costs a
//! thumbnail comparison; otherwise lines are found again, and a line whose pixels match a line
//! already on screen keeps that line's reading without running the recogniser.

use image::imageops::FilterType;
use image::{GrayImage, RgbImage};

use super::geometry::Rect;
use super::reader::{Reader, Scale};
use super::recognise::{self, Crop, Reading};
use crate::analysers::AnalyseError;

/// Whole-frame thumbnail for the "nothing changed" test.
const THUMB: (u32, u32) = (64, 36);
/// Mean absolute difference (0..255) under which a thumbnail block is unchanged. Compression
/// noise on a still picture stays well under it; a caption appearing in a block is far over.
const STILL_BLOCK: f32 = 3.0;
/// Blocks of the thumbnail compared one by one, so a small caption change is not averaged away.
const BLOCK: u32 = 4;
/// A line's signature: its crop at this size, in grey.
const SIG: (u32, u32) = (96, 12);
/// Mean absolute difference (0..255, after removing each signature's mean) under which two
/// crops show the same text.
const SAME_TEXT: f32 = 12.0;
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
    signature: Vec<f32>,
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
    thumb: Option<GrayImage>,
    pub work: Work,
}

impl Tracker {
    pub fn new(scale: Scale, min_confidence: f32) -> Tracker {
        Tracker {
            scale,
            min_confidence,
            live: Vec::new(),
            done: Vec::new(),
            thumb: None,
            work: Work::default(),
        }
    }

    /// Take the frame shown at `time`. `fresh` forgets what was on screen: a new shot starts,
    /// so nothing is carried across the cut by a still-frame test.
    pub fn frame(
        &mut self,
        reader: &mut Reader,
        image: &RgbImage,
        time: f64,
        fresh: bool,
    ) -> Result<(), AnalyseError> {
        self.work.frames += 1;
        let thumb = image::imageops::resize(
            &image::imageops::grayscale(image),
            THUMB.0,
            THUMB.1,
            FilterType::Triangle,
        );
        let still = !fresh && self.thumb.as_ref().is_some_and(|t| unchanged(t, &thumb));
        if still {
            self.work.still_frames += 1;
            for t in &mut self.live {
                if t.missed == 0 {
                    t.seen.end = time;
                }
            }
            return Ok(());
        }
        self.thumb = Some(thumb);

        let (w, h) = (image.width() as f32, image.height() as f32);
        let regions = reader.find(image, self.scale)?;
        let mut found: Vec<(Rect, Crop, Vec<f32>, Option<usize>)> = Vec::new();
        for r in &regions {
            let crop = recognise::crop(image, &r.quad);
            let sig = signature(&crop);
            let bbox = r.quad.bounds().scaled(1.0 / w, 1.0 / h);
            let same = self.live.iter().position(|t| {
                t.seen.bbox.iou(&bbox) >= SAME_PLACE && difference(&t.signature, &sig) < SAME_TEXT
            });
            found.push((bbox, crop, sig, same));
        }
        let mut fresh_crops: Vec<Crop> = Vec::new();
        let mut fresh_at = Vec::new();
        for (i, f) in found.iter_mut().enumerate() {
            if f.3.is_none() {
                fresh_crops.push(std::mem::replace(&mut f.1, Crop(RgbImage::new(0, 0))));
                fresh_at.push(i);
            }
        }
        let readings = reader.read(&mut fresh_crops)?;
        self.work.lines_read += readings.len() as u64;
        self.work.lines_reused += (found.len() - readings.len()) as u64;
        let mut read: Vec<Option<Reading>> = vec![None; found.len()];
        for (i, r) in fresh_at.into_iter().zip(readings) {
            read[i] = Some(r);
        }

        let mut seen_now = vec![false; self.live.len()];
        for ((bbox, _, sig, same), reading) in found.into_iter().zip(read) {
            let at = match (same, reading) {
                (Some(i), _) => Some(i),
                (None, Some(r)) => {
                    if r.confidence < self.min_confidence || r.text.trim().is_empty() {
                        continue;
                    }
                    // Read again but unchanged in what it says: the same line.
                    let again = self.live.iter().position(|t| {
                        t.seen.bbox.iou(&bbox) >= SAME_PLACE && t.seen.text == r.text
                    });
                    if again.is_none() {
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
                    }
                    again
                }
                (None, None) => None,
            };
            if let Some(i) = at {
                let t = &mut self.live[i];
                t.seen.end = time;
                t.missed = 0;
                t.signature = sig;
                seen_now[i] = true;
            }
        }
        let mut keep = Vec::new();
        for (mut t, seen) in std::mem::take(&mut self.live).into_iter().zip(seen_now) {
            if !seen {
                t.missed += 1;
            }
            if t.missed >= GONE_AFTER {
                self.done.push(t.seen);
            } else {
                keep.push(t);
            }
        }
        self.live = keep;
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

fn unchanged(a: &GrayImage, b: &GrayImage) -> bool {
    let (w, h) = a.dimensions();
    (0..h).step_by(BLOCK as usize).all(|by| {
        (0..w).step_by(BLOCK as usize).all(|bx| {
            let mut sum = 0u32;
            let mut n = 0u32;
            for y in by..(by + BLOCK).min(h) {
                for x in bx..(bx + BLOCK).min(w) {
                    sum += u32::from(a.get_pixel(x, y)[0].abs_diff(b.get_pixel(x, y)[0]));
                    n += 1;
                }
            }
            (sum as f32 / n as f32) < STILL_BLOCK
        })
    })
}

/// A crop's grey levels at a fixed size, less their mean, so the same text under a slightly
/// brighter or darker picture still matches.
fn signature(crop: &Crop) -> Vec<f32> {
    let grey = image::imageops::resize(
        &image::imageops::grayscale(&crop.0),
        SIG.0,
        SIG.1,
        FilterType::Triangle,
    );
    let values: Vec<f32> = grey.pixels().map(|p| f32::from(p[0])).collect();
    let mean = values.iter().sum::<f32>() / values.len() as f32;
    values.into_iter().map(|v| v - mean).collect()
}

fn difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len().max(1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb};

    #[test]
    fn a_caption_appearing_is_a_change_but_noise_is_not() {
        let base = GrayImage::from_fn(64, 36, |x, y| Luma([((x * 3 + y * 2) % 200) as u8]));
        let mut noisy = base.clone();
        for (i, p) in noisy.pixels_mut().enumerate() {
            p[0] = p[0].saturating_add((i % 3) as u8);
        }
        assert!(unchanged(&base, &noisy));
        let mut captioned = base.clone();
        for x in 20..40 {
            for y in 30..33 {
                captioned.put_pixel(x, y, Luma([255]));
            }
        }
        assert!(!unchanged(&base, &captioned));
    }

    #[test]
    fn signatures_match_the_same_text_brighter_and_not_other_text() {
        let text = |shift: u32, lift: u8| {
            Crop(RgbImage::from_fn(200, 48, |x, y| {
                let ink = ((x + shift) / 7).is_multiple_of(3) && (10..38).contains(&y);
                let v = if ink { 20 } else { 200 };
                Rgb([v + lift, v + lift, v + lift])
            }))
        };
        let a = signature(&text(0, 0));
        assert!(difference(&a, &signature(&text(0, 30))) < SAME_TEXT);
        assert!(difference(&a, &signature(&text(10, 0))) > SAME_TEXT);
    }
}
