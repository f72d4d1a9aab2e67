//! Reference logos: the features of an enrolled image, computed once at enrolment and kept
//! in the gallery, so a job only indexes them.

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage};

use super::cv::{Extractor, Features, Point, DESCRIPTOR};
use crate::analysers::AnalyseError;

/// References are described at this long side: large enough for ORB's 31-pixel patches to
/// see a logo's detail, small enough that its pyramid reaches logos a fifth of a 720p frame.
const REFERENCE_SIDE: u32 = 480;
/// Keypoints kept per reference.
const REFERENCE_FEATURES: usize = 1000;
/// Smallest reference accepted, on its short side, in pixels of the enrolled image.
pub const MIN_SIDE: u32 = 32;
/// A reference with fewer keypoints than this has too little texture to be found by them.
pub const MIN_KEYPOINTS: usize = 40;
/// Bytes before the points: format, width, height, keypoint count.
const HEADER: usize = 1 + 4 + 4 + 4;
const FORMAT: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("the image is {0}x{1} pixels; a logo reference must be at least {MIN_SIDE} pixels on each side")]
    TooSmall(u32, u32),
    #[error("the image has too little detail to recognise ({0} keypoints; a logo reference needs at least {MIN_KEYPOINTS}): a blank, flat or blurred picture cannot be matched")]
    Featureless(usize),
    #[error("{0}")]
    Failed(String),
}

/// One enrolled image of a logo, described at `REFERENCE_SIDE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub width: u32,
    pub height: u32,
    pub features: Features,
}

impl Reference {
    /// Describe an enrolled image (already decoded and upright).
    pub fn describe(image: &DynamicImage) -> Result<Reference, EnrolError> {
        let (w, h) = (image.width(), image.height());
        if w.min(h) < MIN_SIDE {
            return Err(EnrolError::TooSmall(w, h));
        }
        let scale = REFERENCE_SIDE as f32 / w.max(h) as f32;
        let (rw, rh) = (
            ((w as f32 * scale).round() as u32).max(1),
            ((h as f32 * scale).round() as u32).max(1),
        );
        let grey: GrayImage = image.resize_exact(rw, rh, FilterType::Triangle).to_luma8();
        let features = Extractor::new(REFERENCE_FEATURES)
            .extract(&grey)
            .map_err(|e| EnrolError::Failed(e.to_string()))?;
        if features.len() < MIN_KEYPOINTS {
            return Err(EnrolError::Featureless(features.len()));
        }
        Ok(Reference {
            width: rw,
            height: rh,
            features,
        })
    }

    /// Little-endian bytes, as the gallery keeps them.
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.features.len();
        let mut out = Vec::with_capacity(HEADER + n * (8 + DESCRIPTOR));
        out.push(FORMAT);
        out.extend_from_slice(&self.width.to_le_bytes());
        out.extend_from_slice(&self.height.to_le_bytes());
        out.extend_from_slice(&(n as u32).to_le_bytes());
        for p in &self.features.points {
            out.extend_from_slice(&p.x.to_le_bytes());
            out.extend_from_slice(&p.y.to_le_bytes());
        }
        out.extend_from_slice(&self.features.descriptors);
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Reference, AnalyseError> {
        let bad = || AnalyseError::Failed("a logo gallery entry is unreadable".into());
        let word = |at: usize| -> Option<[u8; 4]> { bytes.get(at..at + 4)?.try_into().ok() };
        if bytes.first() != Some(&FORMAT) {
            return Err(bad());
        }
        let (width, height, n) = match (word(1), word(5), word(9)) {
            (Some(w), Some(h), Some(n)) => (
                u32::from_le_bytes(w),
                u32::from_le_bytes(h),
                u32::from_le_bytes(n) as usize,
            ),
            _ => return Err(bad()),
        };
        let sized = |v: u32| (1..=REFERENCE_SIDE).contains(&v);
        let expected = n
            .checked_mul(8 + DESCRIPTOR)
            .and_then(|b| b.checked_add(HEADER));
        if !sized(width) || !sized(height) || expected != Some(bytes.len()) {
            return Err(bad());
        }
        let points: Vec<Point> = bytes[HEADER..HEADER + n * 8]
            .chunks_exact(8)
            .map(|c| Point {
                x: f32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                y: f32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect();
        let inside =
            |p: &Point| (0.0..=width as f32).contains(&p.x) && (0.0..=height as f32).contains(&p.y);
        if !points.iter().all(inside) {
            return Err(bad());
        }
        Ok(Reference {
            width,
            height,
            features: Features {
                points,
                descriptors: bytes[HEADER + n * 8..].to_vec(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, RgbImage};

    fn checkerboard(w: u32, h: u32, cell: u32) -> DynamicImage {
        let grey = GrayImage::from_fn(w, h, |x, y| {
            // Cells of varying shade so corners differ from each other.
            let v = ((x / cell) * 37 + (y / cell) * 91) % 255;
            Luma([if (x / cell + y / cell).is_multiple_of(2) {
                v as u8
            } else {
                255 - v as u8
            }])
        });
        DynamicImage::ImageLuma8(grey)
    }

    #[test]
    fn a_textured_reference_round_trips_through_its_bytes() {
        let r = Reference::describe(&checkerboard(300, 200, 17)).unwrap();
        assert!(r.features.len() >= MIN_KEYPOINTS);
        assert_eq!((r.width, r.height), (480, 320));
        assert_eq!(Reference::from_bytes(&r.to_bytes()).unwrap(), r);
        assert!(Reference::from_bytes(&r.to_bytes()[..20]).is_err());
        let mut huge = r.to_bytes();
        huge[1..5].copy_from_slice(&100_000u32.to_le_bytes());
        assert!(
            Reference::from_bytes(&huge).is_err(),
            "sizes beyond a reference's"
        );
    }

    #[test]
    fn blank_and_tiny_references_are_refused_with_the_reason() {
        let blank = DynamicImage::ImageRgb8(RgbImage::from_pixel(400, 300, image::Rgb([250; 3])));
        assert!(matches!(
            Reference::describe(&blank),
            Err(EnrolError::Featureless(_))
        ));
        assert!(matches!(
            Reference::describe(&checkerboard(20, 200, 5)),
            Err(EnrolError::TooSmall(20, 200))
        ));
    }
}
