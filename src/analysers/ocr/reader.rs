//! The three PP-OCR models as one reader: find the lines of a picture, cut them out, read them,
//! in reading order.

use std::path::Path;

use image::RgbImage;

use super::detect::{Detector, Region};
use super::geometry::Quad;
use super::recognise::{self, Crop, Reading, Recogniser};
use crate::analysers::AnalyseError;

/// The detector's input size for a picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// Video frames: the long side at most this many pixels (never enlarged). On-screen text is drawn to be
    /// read at a glance, and each frame's cost is what bounds the service's speed.
    LongSide(u32),
    /// Photos and pages: RapidOCR's reference sizing, the short side brought up to 736 pixels
    /// and the long side at most 2000, so small print is still found.
    Still,
}

impl Scale {
    /// The size the detector runs at for a `w` x `h` picture (before rounding to 32).
    pub fn limit(self, w: u32, h: u32) -> u32 {
        match self {
            Scale::LongSide(side) => side.min(w.max(h)),
            Scale::Still => {
                let (long, short) = (w.max(h) as f32, w.min(h).max(1) as f32);
                let up = (736.0 / short).max(1.0);
                (long * up).min(2000.0) as u32
            }
        }
    }
}

/// A line found and read.
#[derive(Debug, Clone)]
pub struct Line {
    pub quad: Quad,
    pub reading: Reading,
}

pub struct Reader {
    detector: Detector,
    recogniser: Recogniser,
}

impl Reader {
    pub fn load(models_dir: &Path) -> Result<Reader, AnalyseError> {
        Ok(Reader {
            detector: Detector::load(models_dir)?,
            recogniser: Recogniser::load(models_dir)?,
        })
    }

    /// The text regions of `image`, in reading order.
    pub fn find(&mut self, image: &RgbImage, scale: Scale) -> Result<Vec<Region>, AnalyseError> {
        let limit = scale.limit(image.width(), image.height());
        let mut regions = self.detector.detect(image, limit)?;
        reading_order(&mut regions);
        Ok(regions)
    }

    /// Read cut-out lines (turned over in place when upside down).
    pub fn read(&mut self, crops: &mut [Crop]) -> Result<Vec<Reading>, AnalyseError> {
        if crops.is_empty() {
            return Ok(Vec::new());
        }
        self.recogniser.read(crops)
    }

    /// Every line of `image` with what it says, in reading order.
    pub fn lines(&mut self, image: &RgbImage, scale: Scale) -> Result<Vec<Line>, AnalyseError> {
        let regions = self.find(image, scale)?;
        let mut crops: Vec<Crop> = regions
            .iter()
            .map(|r| recognise::crop(image, &r.quad))
            .collect();
        let readings = self.read(&mut crops)?;
        let turned = readings.iter().filter(|r| r.upside_down).count();
        let mut lines: Vec<Line> = regions
            .into_iter()
            .zip(readings)
            .map(|(r, reading)| Line {
                quad: r.quad,
                reading,
            })
            .collect();
        // Most lines upside down: the picture is, and it reads from the bottom right.
        if turned * 2 > lines.len() {
            lines.reverse();
        }
        Ok(lines)
    }
}

/// Top to bottom in rows, left to right within a row, along the text's own direction (the
/// median slope of the boxes), so a photographed page held at an angle reads in order. A box
/// belongs to the row above when they overlap across the lines by at least half the lower of
/// the two heights: a small word beside a large one ("the" before "copy centre") is read with
/// it. (PaddleOCR's `sorted_boxes` joins boxes whose tops are within 10 pixels, which splits
/// such words off, and mixes up the lines of tilted text.)
fn reading_order(regions: &mut Vec<Region>) {
    let mut slopes: Vec<f32> = regions
        .iter()
        .map(|r| {
            let [tl, tr, _, _] = r.quad.0;
            (tr.1 - tl.1).atan2(tr.0 - tl.0)
        })
        .collect();
    slopes.sort_by(f32::total_cmp);
    let angle = slopes.get(slopes.len() / 2).copied().unwrap_or(0.0);
    let (sin, cos) = angle.sin_cos();
    // Each box's extent along the line (u) and across it (v).
    let extent = |r: &Region| {
        let us = r.quad.0.map(|(x, y)| x * cos + y * sin);
        let vs = r.quad.0.map(|(x, y)| y * cos - x * sin);
        let lo = |a: [f32; 4]| a.into_iter().fold(f32::INFINITY, f32::min);
        let hi = |a: [f32; 4]| a.into_iter().fold(f32::NEG_INFINITY, f32::max);
        (lo(us), lo(vs), hi(vs))
    };
    let mut boxes: Vec<((f32, f32, f32), Region)> =
        regions.drain(..).map(|r| (extent(&r), r)).collect();
    boxes.sort_by(|a, b| a.0 .1.total_cmp(&b.0 .1));
    // A row's extent across the lines, and its boxes with their start along the line.
    type Row = (f32, f32, Vec<(f32, Region)>);
    let mut rows: Vec<Row> = Vec::new();
    for ((u0, v0, v1), r) in boxes {
        match rows.last_mut() {
            Some((r0, r1, row)) if v1.min(*r1) - v0.max(*r0) >= 0.5 * (v1 - v0).min(*r1 - *r0) => {
                *r1 = r1.max(v1);
                row.push((u0, r));
            }
            _ => rows.push((v0, v1, vec![(u0, r)])),
        }
    }
    for (_, _, mut row) in rows {
        row.sort_by(|a, b| a.0.total_cmp(&b.0));
        regions.extend(row.into_iter().map(|(_, r)| r));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f32, y: f32) -> Region {
        Region {
            quad: Quad([(x, y), (x + 10.0, y), (x + 10.0, y + 5.0), (x, y + 5.0)]),
            score: 1.0,
        }
    }

    #[test]
    fn lines_read_top_down_and_left_to_right() {
        let mut r = vec![at(50.0, 0.0), at(0.0, 40.0), at(0.0, 2.0), at(30.0, 41.0)];
        reading_order(&mut r);
        let xs: Vec<(f32, f32)> = r.iter().map(|r| r.quad.0[0]).collect();
        assert_eq!(xs, vec![(0.0, 2.0), (50.0, 0.0), (0.0, 40.0), (30.0, 41.0)]);
    }

    #[test]
    fn tilted_lines_read_in_order() {
        // Two lines of three words, turned by about 10 degrees: the second line's first word
        // is higher up the picture than the first line's last word.
        let word = |x: f32, y: f32| {
            let (s, c) = 0.17f32.sin_cos();
            let p = |dx: f32, dy: f32| (x + dx * c - dy * s, y + dx * s + dy * c);
            Region {
                quad: Quad([p(0.0, 0.0), p(40.0, 0.0), p(40.0, 10.0), p(0.0, 10.0)]),
                score: 1.0,
            }
        };
        let (s, c) = 0.17f32.sin_cos();
        let at = |u: f32, v: f32| word(u * c - v * s, u * s + v * c);
        let mut r = vec![
            at(100.0, 0.0),
            at(0.0, 20.0),
            at(50.0, 0.0),
            at(0.0, 0.0),
            at(100.0, 20.0),
            at(50.0, 20.0),
        ];
        let expected: Vec<(f32, f32)> = [
            (0.0, 0.0),
            (50.0, 0.0),
            (100.0, 0.0),
            (0.0, 20.0),
            (50.0, 20.0),
            (100.0, 20.0),
        ]
        .iter()
        .map(|&(u, v)| at(u, v).quad.0[0])
        .collect();
        reading_order(&mut r);
        let got: Vec<(f32, f32)> = r.iter().map(|r| r.quad.0[0]).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn stills_are_sized_like_the_reference() {
        assert_eq!(Scale::Still.limit(640, 480), 981);
        assert_eq!(Scale::Still.limit(2480, 3508), 2000);
        assert_eq!(Scale::LongSide(960).limit(1920, 1080), 960);
    }
}
