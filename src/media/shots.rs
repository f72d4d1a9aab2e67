//! Hard-cut shot detection on the decoded frames, computed from the planes the decoder already
//! produced (no conversion): a coarse grid of luma and chroma means plus a luma histogram per
//! frame, compared with the previous frame.

use serde::Serialize;

const GRID_W: usize = 16;
const GRID_H: usize = 9;
const CHROMA_GRID: usize = 4;
const BINS: usize = 32;
/// Read every STEP-th pixel in each direction: plenty for block means and a histogram.
const STEP: usize = 4;

/// Shots shorter than this are merged into the previous one (flashes, glitches).
const MIN_SHOT_SECONDS: f64 = 0.25;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Shot {
    pub start: f64,
    pub end: f64,
}

/// What one frame looks like, coarsely.
#[derive(Clone)]
pub struct Features {
    luma: [f32; GRID_W * GRID_H],
    chroma: [f32; 2 * CHROMA_GRID * CHROMA_GRID],
    hist: [f32; BINS],
}

/// One 8-bit plane: bytes, stride, width, height.
pub struct Plane<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub width: usize,
    pub height: usize,
}

fn grid_means<const N: usize>(p: &Plane, gw: usize, gh: usize, out: &mut [f32; N], offset: usize) {
    let mut sums = vec![0u64; gw * gh];
    let mut counts = vec![0u32; gw * gh];
    let step = if p.width >= 64 { STEP } else { 1 };
    for y in (0..p.height).step_by(step) {
        let row = &p.data[y * p.stride..y * p.stride + p.width];
        let gy = y * gh / p.height;
        for x in (0..p.width).step_by(step) {
            let g = gy * gw + x * gw / p.width;
            sums[g] += u64::from(row[x]);
            counts[g] += 1;
        }
    }
    for (i, (s, c)) in sums.iter().zip(&counts).enumerate() {
        out[offset + i] = if *c > 0 { *s as f32 / *c as f32 } else { 0.0 };
    }
}

impl Features {
    /// From 8-bit planar Y, U, V (any chroma subsampling).
    pub fn from_yuv(y: &Plane, u: &Plane, v: &Plane) -> Features {
        let mut f = Features {
            luma: [0.0; GRID_W * GRID_H],
            chroma: [0.0; 2 * CHROMA_GRID * CHROMA_GRID],
            hist: [0.0; BINS],
        };
        grid_means(y, GRID_W, GRID_H, &mut f.luma, 0);
        grid_means(u, CHROMA_GRID, CHROMA_GRID, &mut f.chroma, 0);
        grid_means(
            v,
            CHROMA_GRID,
            CHROMA_GRID,
            &mut f.chroma,
            CHROMA_GRID * CHROMA_GRID,
        );
        let step = if y.width >= 64 { STEP } else { 1 };
        let mut n = 0u32;
        for row in (0..y.height).step_by(step) {
            let line = &y.data[row * y.stride..row * y.stride + y.width];
            for x in (0..y.width).step_by(step) {
                f.hist[usize::from(line[x]) * BINS / 256] += 1.0;
                n += 1;
            }
        }
        for h in &mut f.hist {
            *h /= n.max(1) as f32;
        }
        f
    }

    /// Mean absolute difference of the block means (0..255) and histogram distance (0..1).
    fn distance(&self, other: &Features) -> (f32, f32) {
        let mad = |a: &[f32], b: &[f32]| {
            a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32
        };
        let blocks = mad(&self.luma, &other.luma).max(mad(&self.chroma, &other.chroma));
        let hist = 0.5
            * self
                .hist
                .iter()
                .zip(&other.hist)
                .map(|(a, b)| (a - b).abs())
                .sum::<f32>();
        (blocks, hist)
    }
}

/// Feeds on every decoded frame; reports cuts as they happen.
pub struct ShotDetector {
    prev: Option<Features>,
    starts: Vec<f64>,
}

impl Default for ShotDetector {
    fn default() -> Self {
        ShotDetector {
            prev: None,
            starts: vec![0.0],
        }
    }
}

impl ShotDetector {
    /// True when the frame at `time` starts a new shot.
    pub fn push(&mut self, time: f64, features: Features) -> bool {
        let cut = match &self.prev {
            Some(prev) => {
                let (blocks, hist) = prev.distance(&features);
                let since = time - self.starts.last().copied().unwrap_or(0.0);
                // A cut changes the picture broadly: many blocks move a lot, or the tone
                // distribution changes and the blocks follow.
                let changed = blocks > 30.0 || (blocks > 12.0 && hist > 0.3);
                changed && since >= MIN_SHOT_SECONDS
            }
            None => false,
        };
        if cut {
            self.starts.push(time);
        }
        self.prev = Some(features);
        cut
    }

    /// The shots, the last one ending at `end`.
    pub fn finish(self, end: f64) -> Vec<Shot> {
        let mut shots = Vec::with_capacity(self.starts.len());
        for (i, start) in self.starts.iter().enumerate() {
            let stop = self.starts.get(i + 1).copied().unwrap_or(end.max(*start));
            shots.push(Shot {
                start: round3(*start),
                end: round3(stop),
            });
        }
        shots
    }
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(y: u8, u: u8, v: u8) -> Features {
        let (yb, ub, vb) = (vec![y; 64 * 36], vec![u; 32 * 18], vec![v; 32 * 18]);
        let plane = |d: &'static [u8], w, h| Plane {
            data: d,
            stride: w,
            width: w,
            height: h,
        };
        let (yb, ub, vb): (&'static [u8], &'static [u8], &'static [u8]) =
            (yb.leak(), ub.leak(), vb.leak());
        Features::from_yuv(&plane(yb, 64, 36), &plane(ub, 32, 18), &plane(vb, 32, 18))
    }

    #[test]
    fn cuts_on_colour_changes_and_not_on_repeats() {
        let mut d = ShotDetector::default();
        assert!(!d.push(0.0, flat(80, 90, 240)));
        assert!(!d.push(0.04, flat(80, 90, 240)));
        // Same brightness, other colour: the chroma blocks see it.
        assert!(d.push(1.0, flat(80, 240, 110)));
        // Too soon after the last cut.
        assert!(!d.push(1.04, flat(200, 128, 128)));
        assert!(d.push(2.0, flat(20, 128, 128)));
        let shots = d.finish(3.0);
        assert_eq!(
            shots,
            vec![
                Shot {
                    start: 0.0,
                    end: 1.0
                },
                Shot {
                    start: 1.0,
                    end: 2.0
                },
                Shot {
                    start: 2.0,
                    end: 3.0
                }
            ]
        );
    }
}
