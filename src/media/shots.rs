//! Hard-cut shot detection on the decoded frames, computed from the planes the decoder already
//! produced (no conversion): a coarse grid of luma and chroma means plus a luma histogram per
//! frame, compared with the previous frame.

use serde::Serialize;

const GRID_W: usize = 16;
const GRID_H: usize = 9;
const CHROMA_GRID: usize = 4;
const BINS: usize = 32;
/// Samples read per row and per column of the luma plane, whatever the resolution: enough
/// for block means and a histogram, and cheap next to decoding the frame.
const SAMPLES_X: usize = 160;
const SAMPLES_Y: usize = 90;

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

/// Block means of a plane on a `gw` x `gh` grid (written from `out[offset]`), from about
/// `cols` x `rows` evenly spread samples; optionally a histogram of the same samples.
fn sample_plane(
    p: &Plane,
    (gw, gh): (usize, usize),
    (cols, rows): (usize, usize),
    out: &mut [f32],
    offset: usize,
    mut hist: Option<&mut [f32; BINS]>,
) {
    let step_x = (p.width / cols).max(1);
    let step_y = (p.height / rows).max(1);
    // Grid column of every sampled x, computed once per plane rather than per sample.
    let xs: Vec<(usize, usize)> = (0..p.width)
        .step_by(step_x)
        .map(|x| (x, x * gw / p.width))
        .collect();
    let mut sums = [0u32; GRID_W * GRID_H];
    let mut counts = [0u32; GRID_W * GRID_H];
    let mut n = 0u32;
    for y in (0..p.height).step_by(step_y) {
        let row = &p.data[y * p.stride..y * p.stride + p.width];
        let base = (y * gh / p.height) * gw;
        for &(x, gx) in &xs {
            let v = row[x];
            sums[base + gx] += u32::from(v);
            counts[base + gx] += 1;
            if let Some(h) = hist.as_deref_mut() {
                h[usize::from(v >> 3)] += 1.0;
            }
        }
        n += xs.len() as u32;
    }
    for i in 0..gw * gh {
        out[offset + i] = if counts[i] > 0 {
            sums[i] as f32 / counts[i] as f32
        } else {
            0.0
        };
    }
    if let Some(h) = hist {
        for b in h.iter_mut() {
            *b /= n.max(1) as f32;
        }
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
        let luma_samples = (SAMPLES_X, SAMPLES_Y);
        let chroma_samples = (SAMPLES_X / 4, SAMPLES_Y / 4);
        let chroma_grid = (CHROMA_GRID, CHROMA_GRID);
        sample_plane(
            y,
            (GRID_W, GRID_H),
            luma_samples,
            &mut f.luma,
            0,
            Some(&mut f.hist),
        );
        sample_plane(u, chroma_grid, chroma_samples, &mut f.chroma, 0, None);
        let second = CHROMA_GRID * CHROMA_GRID;
        sample_plane(v, chroma_grid, chroma_samples, &mut f.chroma, second, None);
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
