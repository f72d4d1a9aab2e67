//! Text-box geometry: the rotated rectangle around a text region, grown by DB's unclip, and
//! box comparisons for tracking.

use imageproc::point::Point;

pub use crate::analysers::rect::Rect;

/// A rotated rectangle: corners clockwise from the top-left as read (`[tl, tr, br, bl]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quad(pub [(f32, f32); 4]);

impl Quad {
    pub fn width(&self) -> f32 {
        dist(self.0[0], self.0[1]).max(dist(self.0[3], self.0[2]))
    }

    pub fn height(&self) -> f32 {
        dist(self.0[0], self.0[3]).max(dist(self.0[1], self.0[2]))
    }

    /// Scale every corner, e.g. from the detector's input to the frame.
    pub fn scaled(&self, sx: f32, sy: f32) -> Quad {
        Quad(self.0.map(|(x, y)| (x * sx, y * sy)))
    }

    /// Keep every corner inside a `w` x `h` image.
    pub fn clamped(&self, w: f32, h: f32) -> Quad {
        Quad(self.0.map(|(x, y)| (x.clamp(0.0, w), y.clamp(0.0, h))))
    }

    /// The axis-aligned box around it.
    pub fn bounds(&self) -> Rect {
        let xs = self.0.map(|p| p.0);
        let ys = self.0.map(|p| p.1);
        let min = |v: [f32; 4]| v.into_iter().fold(f32::INFINITY, f32::min);
        let max = |v: [f32; 4]| v.into_iter().fold(f32::NEG_INFINITY, f32::max);
        Rect {
            x0: min(xs),
            y0: min(ys),
            x1: max(xs),
            y1: max(ys),
        }
    }

    /// The axis-aligned box around it, as a share of a `width` x `height` picture.
    pub fn normalised(&self, width: u32, height: u32) -> Rect {
        self.bounds()
            .scaled(1.0 / width.max(1) as f32, 1.0 / height.max(1) as f32)
    }

    /// Whether `(x, y)` lies inside (edges included).
    pub fn contains(&self, x: f32, y: f32) -> bool {
        let mut sign = 0.0f32;
        for i in 0..4 {
            let (ax, ay) = self.0[i];
            let (bx, by) = self.0[(i + 1) % 4];
            let cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
            if cross != 0.0 {
                if sign != 0.0 && cross.signum() != sign {
                    return false;
                }
                sign = cross.signum();
            }
        }
        true
    }
}

fn dist(a: (f32, f32), b: (f32, f32)) -> f32 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

/// The smallest-area rectangle around `points` (OpenCV's `minAreaRect`), by rotating calipers
/// over the convex hull, with its short side's length.
pub fn min_area_rect(points: &[Point<i32>]) -> Option<(Quad, f32)> {
    let hull: Vec<(f32, f32)> = imageproc::geometry::convex_hull(points.to_vec())
        .into_iter()
        .map(|p| (p.x as f32, p.y as f32))
        .collect();
    if hull.is_empty() {
        return None;
    }
    if hull.len() < 3 {
        // A point or a segment: a degenerate rectangle along it.
        let (a, b) = (hull[0], *hull.last().expect("not empty"));
        return Some((order(&[a, b, b, a]), 0.0));
    }
    // (area, corners, short side) of the best rectangle so far.
    type Fit = (f32, [(f32, f32); 4], f32);
    let mut best: Option<Fit> = None;
    for i in 0..hull.len() {
        let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
        let len = dist(a, b);
        if len == 0.0 {
            continue;
        }
        let (ux, uy) = ((b.0 - a.0) / len, (b.1 - a.1) / len);
        let (mut lo_u, mut hi_u, mut lo_v, mut hi_v) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in &hull {
            let (dx, dy) = (p.0 - a.0, p.1 - a.1);
            let (u, v) = (dx * ux + dy * uy, -dx * uy + dy * ux);
            lo_u = lo_u.min(u);
            hi_u = hi_u.max(u);
            lo_v = lo_v.min(v);
            hi_v = hi_v.max(v);
        }
        let area = (hi_u - lo_u) * (hi_v - lo_v);
        if best.as_ref().is_none_or(|b| area < b.0) {
            let at = |u: f32, v: f32| (a.0 + u * ux - v * uy, a.1 + u * uy + v * ux);
            let corners = [
                at(lo_u, lo_v),
                at(hi_u, lo_v),
                at(hi_u, hi_v),
                at(lo_u, hi_v),
            ];
            best = Some((area, corners, (hi_u - lo_u).min(hi_v - lo_v)));
        }
    }
    best.map(|(_, corners, short)| (order(&corners), short))
}

/// Corners ordered `[tl, tr, br, bl]` the way PaddleOCR's `get_mini_boxes` orders them: the two
/// leftmost points give the left side, the upper of each pair comes first.
fn order(corners: &[(f32, f32); 4]) -> Quad {
    let mut p = *corners;
    p.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (tl, bl) = if p[1].1 > p[0].1 {
        (p[0], p[1])
    } else {
        (p[1], p[0])
    };
    let (tr, br) = if p[3].1 > p[2].1 {
        (p[2], p[3])
    } else {
        (p[3], p[2])
    };
    Quad([tl, tr, br, bl])
}

/// DB's unclip: the text kernel grown by `area * ratio / perimeter` on every side. PaddleOCR
/// offsets the polygon with rounded joins and takes its minimum-area rectangle again; for a
/// rectangle that is exactly the rectangle grown by the same distance.
pub fn unclip(quad: &Quad, ratio: f32) -> (Quad, f32) {
    let (w, h) = (dist(quad.0[0], quad.0[1]), dist(quad.0[0], quad.0[3]));
    let perimeter = 2.0 * (w + h);
    if perimeter == 0.0 {
        return (*quad, 0.0);
    }
    let d = w * h * ratio / perimeter;
    let unit = |a: (f32, f32), b: (f32, f32)| {
        let l = dist(a, b).max(f32::EPSILON);
        ((b.0 - a.0) / l, (b.1 - a.1) / l)
    };
    let (ux, uy) = unit(quad.0[0], quad.0[1]);
    let (vx, vy) = unit(quad.0[0], quad.0[3]);
    let grow = |p: (f32, f32), su: f32, sv: f32| {
        (p.0 + d * (su * ux + sv * vx), p.1 + d * (su * uy + sv * vy))
    };
    let grown = [
        grow(quad.0[0], -1.0, -1.0),
        grow(quad.0[1], 1.0, -1.0),
        grow(quad.0[2], 1.0, 1.0),
        grow(quad.0[3], -1.0, 1.0),
    ];
    (order(&grown), (w.min(h)) + 2.0 * d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(i32, i32)]) -> Vec<Point<i32>> {
        v.iter().map(|&(x, y)| Point::new(x, y)).collect()
    }

    #[test]
    fn axis_aligned_region_gives_its_box() {
        let (q, short) = min_area_rect(&pts(&[(2, 3), (12, 3), (12, 7), (2, 7), (7, 5)])).unwrap();
        assert_eq!(q.0, [(2.0, 3.0), (12.0, 3.0), (12.0, 7.0), (2.0, 7.0)]);
        assert_eq!(short, 4.0);
    }

    #[test]
    fn rotated_region_gives_a_rotated_box() {
        // A 45-degree diamond's best rectangle is the diamond itself, sides of sqrt(50).
        let (q, short) = min_area_rect(&pts(&[(5, 0), (10, 5), (5, 10), (0, 5)])).unwrap();
        assert!((short - 50f32.sqrt()).abs() < 1e-4, "{short}");
        assert!((q.width() * q.height() - 50.0).abs() < 1e-3);
    }

    #[test]
    fn unclip_grows_every_side_by_the_db_distance() {
        let q = Quad([(0.0, 0.0), (20.0, 0.0), (20.0, 10.0), (0.0, 10.0)]);
        let (g, short) = unclip(&q, 1.5);
        // d = 200 * 1.5 / 60 = 5
        assert_eq!(
            g.0,
            [(-5.0, -5.0), (25.0, -5.0), (25.0, 15.0), (-5.0, 15.0)]
        );
        assert_eq!(short, 20.0);
    }

    #[test]
    fn iou_and_containment() {
        let a = Rect {
            x0: 0.0,
            y0: 0.0,
            x1: 2.0,
            y1: 2.0,
        };
        let b = Rect {
            x0: 1.0,
            y0: 0.0,
            x1: 3.0,
            y1: 2.0,
        };
        assert!((a.iou(&b) - 1.0 / 3.0).abs() < 1e-6);
        let q = Quad([(0.0, 0.0), (4.0, 0.0), (4.0, 2.0), (0.0, 2.0)]);
        assert!(q.contains(2.0, 1.0) && q.contains(4.0, 2.0) && !q.contains(5.0, 1.0));
    }
}
