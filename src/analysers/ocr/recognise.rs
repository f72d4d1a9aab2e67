//! Reading a detected line: cut it out upright at the recogniser's height, turn it over when
//! the angle classifier says it is upside down, and decode the PP-OCRv4 recogniser's CTC output
//! with the model's own character list.

use std::borrow::Cow;
use std::path::Path;

use image::{Rgb, RgbImage};
use imageproc::geometric_transformations::{warp_into_with, Interpolation};
use ort::value::TensorRef;

use super::geometry::Quad;
use super::tensor::nchw;
use crate::analysers::onnx::{self, Pooled};
use crate::analysers::AnalyseError;
use crate::media::image::resize_rgb;
use crate::models;

/// The recogniser's and the classifier's input height.
pub const HEIGHT: u32 = 48;
/// The recogniser's narrowest input (`rec_img_shape` 48 x 320).
const REC_MIN_WIDTH: u32 = 320;
/// The classifier's input width (`cls_image_shape` 48 x 192).
const CLS_WIDTH: u32 = 192;
/// Upside down only when the classifier is this sure (`cls_thresh`).
const CLS_THRESH: f32 = 0.9;
/// Lines per angle-classifier inference (`cls_batch_num`).
const BATCH: usize = 6;
/// Longest line read, in input widths of 48: a 4800-pixel input, far beyond any caption.
const MAX_RATIO: f32 = 100.0;

/// A line cut out of its image, upright and `HEIGHT` pixels high.
pub struct Crop(pub RgbImage);

/// Cut `quad` out of `image` (a rotated rectangle, so the map is affine), stand tall lines up
/// the way PaddleOCR does (they are vertical text), and scale to the recogniser's height.
pub fn crop(image: &RgbImage, quad: &Quad) -> Crop {
    let w = quad.width().round().max(1.0) as u32;
    let h = quad.height().round().max(1.0) as u32;
    let [tl, tr, _, bl] = quad.0;
    let (ux, uy) = ((tr.0 - tl.0) / w as f32, (tr.1 - tl.1) / w as f32);
    let (vx, vy) = ((bl.0 - tl.0) / h as f32, (bl.1 - tl.1) / h as f32);
    let mut native = RgbImage::new(w, h);
    // Sample inside the picture: bilinear sampling off its last row or column gives black,
    // where the box of a line touching the edge would get a dark band.
    let (max_x, max_y) = (image.width() as f32 - 1.001, image.height() as f32 - 1.001);
    warp_into_with(
        image,
        |u, v| {
            let (x, y) = (tl.0 + u * ux + v * vx, tl.1 + u * uy + v * vy);
            (x.clamp(0.0, max_x.max(0.0)), y.clamp(0.0, max_y.max(0.0)))
        },
        Interpolation::Bilinear,
        Rgb([0, 0, 0]),
        &mut native,
    );
    if h as f32 / w as f32 >= 1.5 {
        native = image::imageops::rotate270(&native);
    }
    let ratio = (native.width() as f32 / native.height() as f32).min(MAX_RATIO);
    let width = ((HEIGHT as f32 * ratio).ceil() as u32).max(1);
    Crop(resize_rgb(&native, width, HEIGHT))
}

/// What a line says, and the recogniser's mean confidence in its characters.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub text: String,
    pub confidence: f32,
    /// The line was upside down and was turned before reading.
    pub upside_down: bool,
}

impl Reading {
    /// Worth reporting: some text, read with at least `min` confidence.
    pub fn legible(&self, min: f32) -> bool {
        self.confidence >= min && !self.text.trim().is_empty()
    }
}

pub struct Recogniser {
    cls: Pooled,
    rec: Pooled,
    /// Index 0 is CTC's blank; the model's characters follow, then the space.
    chars: Vec<String>,
    input: Vec<f32>,
}

fn failed(e: impl std::fmt::Display) -> AnalyseError {
    AnalyseError::Failed(format!("text recognition: {e}"))
}

impl Recogniser {
    pub fn load(models_dir: &Path) -> Result<Recogniser, AnalyseError> {
        let cls = models::path_of(models_dir, "ppocr-cls").map_err(failed)?;
        let rec = models::path_of(models_dir, "ppocr-rec").map_err(failed)?;
        let mut rec = onnx::session(models_dir, &rec)?;
        let list = rec
            .get()
            .metadata()
            .and_then(|m| m.custom("character"))
            .map_err(failed)?
            .ok_or_else(|| failed("the model has no character list"))?;
        let mut chars = vec![String::new()];
        chars.extend(list.lines().map(str::to_string));
        chars.push(" ".into());
        Ok(Recogniser {
            cls: onnx::session(models_dir, &cls)?,
            rec,
            chars,
            input: Vec::new(),
        })
    }

    /// Read every crop; crops the classifier finds upside down are turned first.
    pub fn read(&mut self, crops: &mut [Crop]) -> Result<Vec<Reading>, AnalyseError> {
        let mut order: Vec<usize> = (0..crops.len()).collect();
        order.sort_by_key(|&i| crops[i].0.width());
        let mut flipped = vec![false; crops.len()];
        for batch in order.chunks(BATCH) {
            let flips = self.upside_down(batch.iter().map(|&i| &crops[i]))?;
            for (&i, flip) in batch.iter().zip(flips) {
                if flip {
                    image::imageops::rotate180_in_place(&mut crops[i].0);
                    flipped[i] = true;
                }
            }
        }
        let mut out = vec![
            Reading {
                text: String::new(),
                confidence: 0.0,
                upside_down: false,
            };
            crops.len()
        ];
        // One line per inference, at its own width: on one thread a batch padded to its widest
        // line costs twice as much per line (6 x 1280 columns: 1.5 s batched, 0.75 s alone).
        for (i, crop) in crops.iter().enumerate() {
            let reading = self.recognise(crop)?;
            out[i] = Reading {
                upside_down: flipped[i],
                ..reading
            };
        }
        Ok(out)
    }

    fn upside_down<'a>(
        &mut self,
        crops: impl ExactSizeIterator<Item = &'a Crop>,
    ) -> Result<Vec<bool>, AnalyseError> {
        let n = crops.len();
        let squeezed: Vec<Cow<RgbImage>> = crops.map(squeeze_for_cls).collect();
        nchw(
            &mut self.input,
            squeezed.iter().map(|c| c.as_ref()),
            CLS_WIDTH,
            HEIGHT,
        );
        let tensor = TensorRef::from_array_view((
            [n, 3, HEIGHT as usize, CLS_WIDTH as usize],
            self.input.as_slice(),
        ))
        .map_err(failed)?;
        let outputs = self.cls.get().run(ort::inputs![tensor]).map_err(failed)?;
        let (_, probs) = outputs[0].try_extract_tensor::<f32>().map_err(failed)?;
        if probs.len() != 2 * n {
            return Err(failed("the angle classifier gave an unexpected shape"));
        }
        Ok(probs
            .chunks(2)
            .map(|p| p[1] > p[0] && p[1] > CLS_THRESH)
            .collect())
    }

    fn recognise(&mut self, crop: &Crop) -> Result<Reading, AnalyseError> {
        let width = crop.0.width().max(REC_MIN_WIDTH);
        nchw(&mut self.input, std::iter::once(&crop.0), width, HEIGHT);
        let tensor = TensorRef::from_array_view((
            [1, 3, HEIGHT as usize, width as usize],
            self.input.as_slice(),
        ))
        .map_err(failed)?;
        let outputs = self.rec.get().run(ort::inputs![tensor]).map_err(failed)?;
        let (shape, probs) = outputs[0].try_extract_tensor::<f32>().map_err(failed)?;
        let classes = self.chars.len();
        if shape.len() != 3 || shape[0] != 1 || shape[2] as usize != classes {
            return Err(failed(format!(
                "the recogniser gave shape {shape:?} for {classes} classes"
            )));
        }
        Ok(ctc_greedy(probs, classes, &self.chars))
    }
}

/// The classifier sees the whole line squeezed into its 192-pixel width when it is longer.
fn squeeze_for_cls(crop: &Crop) -> Cow<'_, RgbImage> {
    if crop.0.width() <= CLS_WIDTH {
        Cow::Borrowed(&crop.0)
    } else {
        Cow::Owned(resize_rgb(&crop.0, CLS_WIDTH, HEIGHT))
    }
}

/// Best path decoding: the most likely class at each step, repeats merged, blanks dropped; the
/// confidence is the mean probability of the characters kept.
fn ctc_greedy(probs: &[f32], classes: usize, chars: &[String]) -> Reading {
    let mut text = String::new();
    let (mut sum, mut n) = (0.0f32, 0u32);
    let mut previous = 0usize;
    for step in probs.chunks(classes) {
        let (best, p) =
            step.iter().enumerate().fold(
                (0, f32::MIN),
                |acc, (i, &p)| if p > acc.1 { (i, p) } else { acc },
            );
        if best != 0 && best != previous {
            text.push_str(&chars[best]);
            sum += p;
            n += 1;
        }
        previous = best;
    }
    Reading {
        confidence: if n == 0 { 0.0 } else { sum / n as f32 },
        text,
        upside_down: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_merges_repeats_and_drops_blanks() {
        let chars: Vec<String> = ["", "a", "b"].iter().map(|s| s.to_string()).collect();
        // a a _ a b b _
        let steps = [1, 1, 0, 1, 2, 2, 0];
        let mut probs = Vec::new();
        for s in steps {
            let mut row = vec![0.05f32; 3];
            row[s] = 0.9;
            probs.extend(row);
        }
        let r = ctc_greedy(&probs, 3, &chars);
        assert_eq!(r.text, "aab");
        assert!((r.confidence - 0.9).abs() < 1e-6);
    }

    #[test]
    fn crops_are_upright_at_the_recogniser_height() {
        let img = RgbImage::from_fn(200, 100, |x, _| Rgb([(x % 256) as u8, 0, 0]));
        let wide = crop(
            &img,
            &Quad([(10.0, 10.0), (110.0, 10.0), (110.0, 30.0), (10.0, 30.0)]),
        );
        assert_eq!(wide.0.dimensions(), (240, HEIGHT));
        // The left of the crop is the left of the box.
        assert!(wide.0.get_pixel(0, 20)[0] < wide.0.get_pixel(239, 20)[0]);
        let tall = crop(
            &img,
            &Quad([(10.0, 10.0), (30.0, 10.0), (30.0, 90.0), (10.0, 90.0)]),
        );
        assert_eq!(tall.0.dimensions(), (192, HEIGHT));
    }
}
