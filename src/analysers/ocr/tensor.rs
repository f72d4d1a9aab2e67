//! Pictures as the PP-OCR models take them.

use image::RgbImage;

/// Lay `images` out as an NCHW batch of `width` x `height`, scaled to -1..1 and zero-padded
/// on the right and below.
///
/// Channels stay RGB, where RapidOCR feeds OpenCV's BGR: on the test photographs and pages
/// RGB read better (a page tilted by 10 degrees: 0.1 % CER, against 5.9 % with BGR into the
/// recogniser and 9.2 % into the detector).
pub fn nchw<'a>(
    input: &mut Vec<f32>,
    images: impl Iterator<Item = &'a RgbImage>,
    width: u32,
    height: u32,
) {
    let (w, h) = (width as usize, height as usize);
    input.clear();
    for img in images {
        let base = input.len();
        input.resize(base + 3 * h * w, 0.0);
        let iw = (img.width() as usize).min(w);
        for (y, row) in img.rows().take(h).enumerate() {
            for (x, p) in row.take(iw).enumerate() {
                for c in 0..3 {
                    input[base + c * h * w + y * w + x] = f32::from(p[c]) / 127.5 - 1.0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use image::Rgb;

    #[test]
    fn planes_are_scaled_and_padded() {
        let img = image::RgbImage::from_pixel(2, 1, Rgb([255, 0, 127]));
        let mut input = Vec::new();
        super::nchw(&mut input, std::iter::once(&img), 3, 2);
        // R plane, G plane, B plane; each 3 x 2, the picture in the top-left 2 x 1.
        assert_eq!(input.len(), 18);
        assert_eq!(&input[0..3], &[1.0, 1.0, 0.0]);
        assert_eq!(&input[6..9], &[-1.0, -1.0, 0.0]);
        assert!((input[12] - (127.0 / 127.5 - 1.0)).abs() < 1e-6);
        assert_eq!(&input[3..6], &[0.0, 0.0, 0.0]);
    }
}
