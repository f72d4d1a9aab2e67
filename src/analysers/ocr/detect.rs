//! PP-OCRv4 text detection: the DB network's text-probability map, then DB's post-processing
//! (threshold, dilation, contours, box score, unclip) with RapidOCR's reference parameters.

use std::path::Path;

use image::{GrayImage, Luma, RgbImage};
use imageproc::contours::BorderType;
use ort::value::TensorRef;

use super::geometry::{self, Quad};
use super::tensor::nchw;
use crate::analysers::onnx::{self, Pooled};
use crate::analysers::AnalyseError;
use crate::models;

/// A pixel is text when its probability is over this (`thresh`).
const THRESH: f32 = 0.3;
/// A region is kept when its mean probability is at least this (`box_thresh`).
const BOX_THRESH: f32 = 0.5;
const UNCLIP_RATIO: f32 = 1.6;
const MAX_CANDIDATES: usize = 1000;
/// Regions with a short side under this many pixels (of the map) are noise (`min_size`).
const MIN_SIZE: f32 = 3.0;

/// A text region in the coordinates of the image given to [`Detector::detect`].
#[derive(Debug, Clone)]
pub struct Region {
    pub quad: Quad,
    pub score: f32,
}

pub struct Detector {
    session: Pooled,
    input: Vec<f32>,
}

fn failed(e: impl std::fmt::Display) -> AnalyseError {
    AnalyseError::Failed(format!("text detection: {e}"))
}

/// The network's input size for an image: the long side scaled to `limit`, both sides
/// multiples of 32 (the network downsamples by 32).
pub fn input_size(w: u32, h: u32, limit: u32) -> (u32, u32) {
    let ratio = limit as f32 / w.max(h).max(1) as f32;
    let round32 = |v: u32| ((v as f32 * ratio / 32.0).round() as u32 * 32).max(32);
    (round32(w), round32(h))
}

impl Detector {
    pub fn load(models_dir: &Path) -> Result<Detector, AnalyseError> {
        let path = models::path_of(models_dir, "ppocr-det").map_err(failed)?;
        Ok(Detector {
            session: onnx::session(models_dir, &path)?,
            input: Vec::new(),
        })
    }

    /// Text regions of `image`, run at `limit` pixels on the long side.
    pub fn detect(&mut self, image: &RgbImage, limit: u32) -> Result<Vec<Region>, AnalyseError> {
        let (w, h) = input_size(image.width(), image.height(), limit);
        let resized;
        let pixels = if (w, h) == image.dimensions() {
            image
        } else {
            resized = crate::media::image::resize_rgb(image, w, h);
            &resized
        };
        nchw(&mut self.input, std::iter::once(pixels), w, h);
        let tensor = TensorRef::from_array_view((
            [1usize, 3, h as usize, w as usize],
            self.input.as_slice(),
        ))
        .map_err(failed)?;
        let outputs = self
            .session
            .get()
            .run(ort::inputs![tensor])
            .map_err(failed)?;
        let (_, prob) = outputs[0].try_extract_tensor::<f32>().map_err(failed)?;
        if prob.len() != (w * h) as usize {
            return Err(failed(format!(
                "the map has {} values for a {w}x{h} input",
                prob.len()
            )));
        }
        let sx = image.width() as f32 / w as f32;
        let sy = image.height() as f32 / h as f32;
        Ok(regions(prob, w, h)
            .into_iter()
            .map(|r| Region {
                quad: r
                    .quad
                    .scaled(sx, sy)
                    .clamped(image.width() as f32, image.height() as f32),
                ..r
            })
            .filter(|r| r.quad.width() > 3.0 && r.quad.height() > 3.0)
            .collect())
    }
}

/// DB post-processing of a `w` x `h` probability map into regions in map coordinates.
fn regions(prob: &[f32], w: u32, h: u32) -> Vec<Region> {
    // Binarise and dilate with a 2x2 kernel in one pass: a pixel is set when it or its left,
    // upper or upper-left neighbour is over the threshold.
    let on = |x: u32, y: u32| prob[(y * w + x) as usize] > THRESH;
    let mask = GrayImage::from_fn(w, h, |x, y| {
        let hit = on(x, y)
            || (x > 0 && on(x - 1, y))
            || (y > 0 && on(x, y - 1))
            || (x > 0 && y > 0 && on(x - 1, y - 1));
        Luma([if hit { 255 } else { 0 }])
    });
    imageproc::contours::find_contours::<i32>(&mask)
        .into_iter()
        .filter(|c| c.border_type == BorderType::Outer)
        .take(MAX_CANDIDATES)
        .filter_map(|c| {
            let (quad, short) = geometry::min_area_rect(&c.points)?;
            if short < MIN_SIZE {
                return None;
            }
            let score = mean_inside(prob, w, h, &quad);
            if score < BOX_THRESH {
                return None;
            }
            let (grown, short) = geometry::unclip(&quad, UNCLIP_RATIO);
            (short >= MIN_SIZE + 2.0).then_some(Region {
                quad: grown.clamped(w as f32, h as f32),
                score,
            })
        })
        .collect()
}

/// Mean probability of the map's pixels inside `quad` (DB's "fast" box score).
fn mean_inside(prob: &[f32], w: u32, h: u32, quad: &Quad) -> f32 {
    let b = quad.bounds();
    let clampi = |v: f32, hi: u32| (v.max(0.0) as u32).min(hi - 1);
    let (x0, x1) = (clampi(b.x0.floor(), w), clampi(b.x1.ceil(), w));
    let (y0, y1) = (clampi(b.y0.floor(), h), clampi(b.y1.ceil(), h));
    let (mut sum, mut n) = (0.0f32, 0u32);
    for y in y0..=y1 {
        for x in x0..=x1 {
            if quad.contains(x as f32, y as f32) {
                sum += prob[(y * w + x) as usize];
                n += 1;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_sizes_are_multiples_of_32_within_the_limit() {
        assert_eq!(input_size(1280, 720, 960), (960, 544));
        assert_eq!(input_size(100, 40, 100), (96, 32));
        assert_eq!(input_size(640, 480, 981), (992, 736));
        assert_eq!(input_size(10, 10, 10), (32, 32));
    }

    #[test]
    fn a_confident_blob_becomes_one_grown_region() {
        let (w, h) = (64u32, 32u32);
        let mut prob = vec![0.0f32; (w * h) as usize];
        for y in 10..20 {
            for x in 8..48 {
                prob[(y * w + x) as usize] = 0.9;
            }
        }
        let found = regions(&prob, w, h);
        assert_eq!(found.len(), 1);
        let b = found[0].quad.bounds();
        assert!(
            b.x0 < 8.0 && b.x1 > 48.0 && b.y0 < 10.0 && b.y1 > 20.0,
            "{b:?}"
        );
        assert!(found[0].score > 0.7, "{}", found[0].score);
    }

    #[test]
    fn faint_and_tiny_blobs_are_dropped() {
        let (w, h) = (64u32, 32u32);
        let mut prob = vec![0.0f32; (w * h) as usize];
        prob[(5 * w + 5) as usize] = 0.9;
        for y in 10..20 {
            for x in 20..40 {
                prob[(y * w + x) as usize] = 0.35;
            }
        }
        assert!(regions(&prob, w, h).is_empty());
    }
}
