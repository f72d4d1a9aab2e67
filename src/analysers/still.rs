//! "Nothing changed": a frame whose small thumbnail matches the last analysed one, block by
//! block, shows the same picture, so the analysers that follow things over time (text, logos)
//! keep what they saw instead of searching it again.

use image::RgbImage;

use crate::media::image::resize_rgb;

/// Whole-frame thumbnail: an eighth of 720p, so a changed digit in a caption still changes a
/// block.
const THUMB: (u32, u32) = (160, 90);
/// Mean absolute difference (0..255) under which a thumbnail block is unchanged. Compression
/// noise on a still picture stays well under it; a caption appearing in a block is far over.
const STILL_BLOCK: f32 = 3.0;
/// Pictures are compared block by block (this many pixels square), so a small change is not
/// averaged away over the whole picture.
pub const BLOCK: usize = 4;

/// The thumbnail of the last frame that changed.
#[derive(Default)]
pub struct StillCheck {
    thumb: Option<Vec<f32>>,
}

impl StillCheck {
    /// Whether `image` shows what the last changed frame showed. `fresh` (a new shot) is
    /// always a change.
    pub fn unchanged(&mut self, image: &RgbImage, fresh: bool) -> bool {
        let thumb = grey(&resize_rgb(image, THUMB.0, THUMB.1));
        let still = !fresh
            && self
                .thumb
                .as_ref()
                .is_some_and(|t| most_changed_block(t, &thumb, THUMB.0 as usize) < STILL_BLOCK);
        if !still {
            self.thumb = Some(thumb);
        }
        still
    }
}

/// Grey levels of a picture, row by row.
pub fn grey(image: &RgbImage) -> Vec<f32> {
    image
        .pixels()
        .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
        .collect()
}

/// The mean absolute difference of the most different `BLOCK` x `BLOCK` block of two grey
/// pictures `width` wide.
pub fn most_changed_block(a: &[f32], b: &[f32], width: usize) -> f32 {
    let height = a.len() / width.max(1);
    let mut worst = 0.0f32;
    for by in (0..height).step_by(BLOCK) {
        for bx in (0..width).step_by(BLOCK) {
            let (mut sum, mut n) = (0.0f32, 0u32);
            for y in by..(by + BLOCK).min(height) {
                for x in bx..(bx + BLOCK).min(width) {
                    sum += (a[y * width + x] - b[y * width + x]).abs();
                    n += 1;
                }
            }
            worst = worst.max(sum / n as f32);
        }
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_digit_is_a_change_but_noise_is_not() {
        let base: Vec<f32> = (0..160 * 90).map(|i| ((i * 7) % 200) as f32).collect();
        let noisy: Vec<f32> = base
            .iter()
            .enumerate()
            .map(|(i, v)| v + (i % 3) as f32)
            .collect();
        assert!(most_changed_block(&base, &noisy, 160) < STILL_BLOCK);
        // A 3 x 4 pixel glyph changing in one corner of the thumbnail.
        let mut changed = base.clone();
        for y in 80..84 {
            for x in 100..103 {
                changed[y * 160 + x] = 255.0;
            }
        }
        assert!(most_changed_block(&base, &changed, 160) >= STILL_BLOCK);
    }
}
