//! Still images: decoded with hard limits (a header may claim any size; the decoder must not
//! believe it) and turned upright from their EXIF orientation.

use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};

use super::MediaError;

/// Largest image accepted, in pixels (about 16k x 16k).
pub const MAX_PIXELS: u64 = 268_000_000;
/// Memory the decoder may allocate.
const MAX_ALLOC: u64 = 1 << 30;

fn corrupt(reason: impl ToString) -> MediaError {
    MediaError::Corrupt {
        kind: "image",
        reason: reason.to_string(),
    }
}

/// Refuse dimensions over the limit before anything is allocated.
pub fn check_dimensions(width: u32, height: u32) -> Result<(), MediaError> {
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(MediaError::TooLarge(format!(
            "image is {width}x{height} pixels, over the limit of {} megapixels",
            MAX_PIXELS / 1_000_000
        )));
    }
    Ok(())
}

/// Decode an image, upright.
pub fn load(path: &Path) -> Result<DynamicImage, MediaError> {
    let mut reader = ImageReader::open(path)
        .map_err(corrupt)?
        .with_guessed_format()
        .map_err(corrupt)?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (w, h) = decoder.dimensions();
    check_dimensions(w, h)?;
    let orientation = decoder.orientation().map_err(corrupt)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// RGB at most `max_side` on the long side (never upscaled).
pub fn fit_rgb(img: &DynamicImage, max_side: u32) -> RgbImage {
    let (w, h) = super::decode::fit(img.width(), img.height(), max_side);
    if (w, h) == (img.width(), img.height()) {
        img.to_rgb8()
    } else {
        img.resize_exact(w, h, image::imageops::FilterType::Triangle)
            .to_rgb8()
    }
}

/// `img` scaled to `width` x `height` (at least 1 x 1) with a bilinear filter, SIMD-accelerated:
/// analysers resize every frame they read, and `image`'s own resize costs tens of
/// milliseconds on a 720p frame.
pub fn resize_rgb(img: &RgbImage, width: u32, height: u32) -> RgbImage {
    use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
    let mut out = RgbImage::new(width.max(1), height.max(1));
    if img.width() == 0 || img.height() == 0 {
        return out;
    }
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    Resizer::new()
        .resize(img, &mut out, &options)
        .expect("RGB into RGB of non-zero size always resizes");
    out
}
