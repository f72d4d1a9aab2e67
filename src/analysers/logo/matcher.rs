//! Finding enrolled logos in a picture: its ORB features are looked up in one LSH index of
//! every reference's descriptors, matches that pass Lowe's ratio test vote for their
//! reference, and only references with enough votes are fitted with a RANSAC homography (the
//! cheap pre-filter: most frames end at the vote). A fit counts when enough matches agree with
//! it and the logo it outlines is a plausible view of a flat thing.

use std::collections::HashMap;

use super::cv::{self, Features, Point, DESCRIPTOR};
use super::lsh::Lsh;
use super::reference::Reference;
use crate::analysers::rect::Rect;

/// Neighbours looked up per frame descriptor: enough to see past a logo's other references
/// to the nearest descriptor of another logo.
const NEIGHBOURS: usize = 4;
/// Lowe's ratio: a match counts when its nearest descriptor is clearly nearer than the next.
const RATIO: f32 = 0.8;
/// Hamming distance (of 256 bits) beyond which descriptors do not match at all.
const MAX_DISTANCE: u32 = 64;
/// A match without a runner-up among its nearest neighbours (they all show the same logo)
/// counts only this close.
const CLOSE: u32 = 40;
/// Votes a reference needs before a homography is fitted.
const MIN_VOTES: usize = 10;
/// Matches that must agree with the homography for a logo to be found.
pub const MIN_INLIERS: usize = 10;
/// References fitted per picture, the most voted first.
const MAX_CANDIDATES: usize = 8;
/// Instances of one reference looked for in one picture.
const MAX_INSTANCES: usize = 3;
/// Smallest side of a found logo, in pixels of the picture.
const MIN_FOUND_SIDE: f32 = 16.0;
/// Opposite sides of a found outline may differ in length by at most this factor
/// (a logo seen at up to about 70 degrees from the front).
const MAX_SKEW: f32 = 3.0;
/// Inliers must spread over at least this share of the reference (by their bounding box), so
/// a single letter shared by two logos does not stand for the whole of either.
const MIN_COVER: f32 = 0.05;

/// A logo of the gallery: several references may show it.
#[derive(Debug, Clone)]
pub struct KnownLogo {
    pub id: String,
    pub name: String,
    pub references: Vec<Reference>,
}

/// A logo found in a picture.
#[derive(Debug, Clone)]
pub struct Found {
    /// Index into the catalogue's logos.
    pub logo: usize,
    /// Axis-aligned box of the outline, in pixels of the picture.
    pub bbox: Rect,
    pub inliers: usize,
    pub confidence: f32,
}

/// Every reference of a gallery in one index.
pub struct Catalogue {
    logos: Vec<(String, String)>,
    /// Each reference and the logo it shows.
    references: Vec<(usize, Reference)>,
    /// For each indexed descriptor: its reference and its keypoint there.
    owner: Vec<(u32, u32)>,
    index: Lsh,
}

impl Catalogue {
    pub fn new(gallery: Vec<KnownLogo>) -> Catalogue {
        let mut logos = Vec::new();
        let mut references = Vec::new();
        let mut owner = Vec::new();
        let mut descriptors = Vec::new();
        for (li, logo) in gallery.into_iter().enumerate() {
            logos.push((logo.id, logo.name));
            for r in logo.references {
                let ri = references.len() as u32;
                owner.extend((0..r.features.len() as u32).map(|k| (ri, k)));
                descriptors.extend_from_slice(&r.features.descriptors);
                references.push((li, r));
            }
        }
        Catalogue {
            logos,
            references,
            owner,
            index: Lsh::build(&descriptors),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.references.is_empty()
    }

    /// The gallery id and name of a logo.
    pub fn logo(&self, i: usize) -> (&str, &str) {
        let (id, name) = &self.logos[i];
        (id, name)
    }

    pub fn names(&self) -> impl Iterator<Item = (usize, &str)> {
        self.logos
            .iter()
            .enumerate()
            .map(|(i, (_, n))| (i, n.as_str()))
    }

    /// The logos in a picture of `size` (width, height) pixels whose features are `frame`.
    pub fn find(&self, frame: &Features, size: (u32, u32)) -> Vec<Found> {
        let mut votes: HashMap<u32, Vec<(Point, Point)>> = HashMap::new();
        let mut searcher = self.index.searcher();
        for (query, to) in frame
            .descriptors
            .chunks_exact(DESCRIPTOR)
            .zip(&frame.points)
        {
            let nearest = searcher.nearest(query, NEIGHBOURS);
            for (ri, k) in self.voters(&nearest) {
                votes.entry(ri).or_default().push((self.point(ri, k), *to));
            }
        }
        let mut candidates: Vec<(u32, Vec<(Point, Point)>)> = votes
            .into_iter()
            .filter(|(_, v)| v.len() >= MIN_VOTES)
            .collect();
        candidates.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        candidates.truncate(MAX_CANDIDATES);
        let tolerance = (0.004 * size.0.max(size.1) as f64).max(3.0);
        let mut found: Vec<Found> = Vec::new();
        for (ri, mut pairs) in candidates {
            let (logo, reference) = &self.references[ri as usize];
            for _ in 0..MAX_INSTANCES {
                let Some(f) = self.fit(*logo, reference, &mut pairs, tolerance) else {
                    break;
                };
                if on_screen(&f.bbox, size) {
                    found.push(f);
                }
            }
        }
        // Two references of one logo finding the same place are one finding.
        found.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        let mut kept: Vec<Found> = Vec::new();
        for f in found {
            if !kept
                .iter()
                .any(|k| k.logo == f.logo && k.bbox.iou(&f.bbox) > 0.3)
            {
                kept.push(f);
            }
        }
        kept
    }

    /// The reference keypoints a frame descriptor matches, from its nearest neighbours: Lowe's
    /// ratio test, where the runner-up is the nearest descriptor of another logo, or of
    /// another spot of the same reference (a repeated pattern). The nearest neighbours before
    /// it show the same logo (one per reference: a logo enrolled twice is matched in both).
    fn voters(&self, nearest: &[(usize, u32)]) -> Vec<(u32, u32)> {
        let Some(&(first, d1)) = nearest.first() else {
            return Vec::new();
        };
        if d1 > MAX_DISTANCE {
            return Vec::new();
        }
        let logo_of = |ri: u32| self.references[ri as usize].0;
        let logo = logo_of(self.owner[first].0);
        let mut same: Vec<((u32, u32), u32)> = Vec::new();
        let mut rival = None;
        for &(i, d) in nearest {
            let (ri, k) = self.owner[i];
            let seen = same.iter().find(|((rj, _), _)| *rj == ri);
            let other_spot =
                seen.is_some_and(|&((_, l), _)| far(self.point(ri, k), self.point(ri, l)));
            if logo_of(ri) != logo || other_spot {
                rival = Some(d);
                break;
            }
            if seen.is_none() {
                same.push(((ri, k), d));
            }
        }
        let passes = |d: u32| match rival {
            Some(d2) => (d as f32) < RATIO * d2 as f32,
            None => d <= CLOSE,
        };
        same.into_iter()
            .filter(|&(_, d)| d <= MAX_DISTANCE && passes(d))
            .map(|(m, _)| m)
            .collect()
    }

    fn point(&self, reference: u32, k: u32) -> Point {
        self.references[reference as usize].1.features.points[k as usize]
    }

    /// Fit one instance of `reference` to `pairs` (reference point, picture point); its
    /// inliers are taken out of `pairs` so the next call looks for another instance.
    fn fit(
        &self,
        logo: usize,
        reference: &Reference,
        pairs: &mut Vec<(Point, Point)>,
        tolerance: f64,
    ) -> Option<Found> {
        if pairs.len() < MIN_VOTES {
            return None;
        }
        let (from, to): (Vec<Point>, Vec<Point>) = pairs.iter().copied().unzip();
        let fit = cv::homography(&from, &to, tolerance)?;
        let inliers: Vec<usize> = (0..pairs.len()).filter(|&i| fit.inliers[i]).collect();
        // Agreeing matches are counted by reference keypoint: one corner found at several
        // scales of the frame is one piece of evidence, not several.
        let mut spots: Vec<(u32, u32)> = inliers
            .iter()
            .map(|&i| (pairs[i].0.x.to_bits(), pairs[i].0.y.to_bits()))
            .collect();
        spots.sort_unstable();
        spots.dedup();
        let n = spots.len();
        if n < MIN_INLIERS {
            return None;
        }
        let cover = {
            let mut r = Rect {
                x0: f32::MAX,
                y0: f32::MAX,
                x1: f32::MIN,
                y1: f32::MIN,
            };
            for &i in &inliers {
                let p = pairs[i].0;
                r = Rect {
                    x0: r.x0.min(p.x),
                    y0: r.y0.min(p.y),
                    x1: r.x1.max(p.x),
                    y1: r.y1.max(p.y),
                };
            }
            r.area() / (reference.width as f32 * reference.height as f32)
        };
        let mut keep = fit.inliers.iter();
        pairs.retain(|_| !*keep.next().expect("one flag per pair"));
        let quad = outline(&fit.h, reference)?;
        if cover < MIN_COVER || !plausible(&quad) {
            return None;
        }
        Some(Found {
            logo,
            bbox: bounds(&quad),
            inliers: n,
            confidence: confidence(n),
        })
    }
}

/// Whether a found box lies mostly on the picture of `size`: a nearly singular homography can
/// map a reference to a huge outline that passes the shape checks.
fn on_screen(b: &Rect, size: (u32, u32)) -> bool {
    let (w, h) = (size.0 as f32, size.1 as f32);
    b.x0 >= -0.5 * w && b.y0 >= -0.5 * h && b.x1 <= 1.5 * w && b.y1 <= 1.5 * h
}

/// Two keypoints of one reference more than a few pixels apart are different spots.
fn far(a: Point, b: Point) -> bool {
    (a.x - b.x).hypot(a.y - b.y) > 4.0
}

/// How sure a fit is, from the number of matches that agree with it: a chance fit of
/// unrelated matches rarely gathers more than a handful (under 10 on the 30 logo-free test
/// pictures), a clear view of a logo dozens. 0.5 at 13 inliers, 0.85 at 25.
pub fn confidence(inliers: usize) -> f32 {
    let extra = inliers.saturating_sub(MIN_INLIERS) as f32;
    1.0 - (-(extra + 4.0) / 10.0).exp()
}

/// The reference's corners mapped into the picture, if the mapping keeps them finite and in
/// front.
fn outline(h: &[f64; 9], reference: &Reference) -> Option<[Point; 4]> {
    let (w, hh) = (reference.width as f64, reference.height as f64);
    let corners = [(0.0, 0.0), (w, 0.0), (w, hh), (0.0, hh)];
    let mut quad = [Point { x: 0.0, y: 0.0 }; 4];
    for (q, (x, y)) in quad.iter_mut().zip(corners) {
        let z = h[6] * x + h[7] * y + h[8];
        if z <= 1e-9 {
            return None;
        }
        *q = Point {
            x: ((h[0] * x + h[1] * y + h[2]) / z) as f32,
            y: ((h[3] * x + h[4] * y + h[5]) / z) as f32,
        };
    }
    Some(quad)
}

/// Whether an outline is a view of a flat logo: convex, not mirrored (corners keep their
/// turn), not too small, and not stretched beyond a steep viewing angle.
fn plausible(q: &[Point; 4]) -> bool {
    let side = |a: Point, b: Point| (a.x - b.x).hypot(a.y - b.y);
    let sides = [
        side(q[0], q[1]),
        side(q[1], q[2]),
        side(q[2], q[3]),
        side(q[3], q[0]),
    ];
    if sides.iter().any(|s| *s < MIN_FOUND_SIDE) {
        return false;
    }
    let skew = |a: f32, b: f32| a.max(b) / a.min(b) <= MAX_SKEW;
    if !skew(sides[0], sides[2]) || !skew(sides[1], sides[3]) {
        return false;
    }
    // Image y points down, so the reference's clockwise corners turn with positive cross
    // products; all four must.
    (0..4).all(|i| {
        let (a, b, c) = (q[i], q[(i + 1) % 4], q[(i + 2) % 4]);
        (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x) > 0.0
    })
}

fn bounds(q: &[Point; 4]) -> Rect {
    Rect {
        x0: q.iter().map(|p| p.x).fold(f32::MAX, f32::min),
        y0: q.iter().map(|p| p.y).fold(f32::MAX, f32::min),
        x1: q.iter().map(|p| p.x).fold(f32::MIN, f32::max),
        y1: q.iter().map(|p| p.y).fold(f32::MIN, f32::max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f32, y: f32) -> Point {
        Point { x, y }
    }

    #[test]
    fn outlines_far_beyond_the_picture_are_not_findings() {
        let r = |x0, y0, x1, y1| Rect { x0, y0, x1, y1 };
        assert!(on_screen(&r(-10., 5., 700., 400.), (640, 480)));
        assert!(!on_screen(&r(-5000., 0., 300., 300.), (640, 480)));
    }

    #[test]
    fn only_convex_unmirrored_outlines_of_a_readable_size_are_plausible() {
        let square = [p(10., 10.), p(110., 10.), p(110., 110.), p(10., 110.)];
        assert!(plausible(&square));
        let mirrored = [p(110., 10.), p(10., 10.), p(10., 110.), p(110., 110.)];
        assert!(!plausible(&mirrored));
        let bowtie = [p(10., 10.), p(110., 110.), p(110., 10.), p(10., 110.)];
        assert!(!plausible(&bowtie));
        let tiny = [p(10., 10.), p(20., 10.), p(20., 20.), p(10., 20.)];
        assert!(!plausible(&tiny));
        let sliver = [p(10., 10.), p(110., 10.), p(110., 30.), p(10., 110.)];
        assert!(!plausible(&sliver));
        let tilted = [p(30., 10.), p(120., 20.), p(110., 110.), p(20., 100.)];
        assert!(plausible(&tilted));
    }

    #[test]
    fn confidence_grows_with_agreeing_matches() {
        assert!(confidence(MIN_INLIERS) < 0.5);
        assert!(confidence(13) >= 0.5);
        assert!(confidence(25) >= 0.85);
        assert!(confidence(20) < confidence(40));
    }
}
