//! Logos over time: a logo found in consecutive samples is one appearance, from its first to its
//! last sample, wherever it moves on screen (a logo on a shirt walks across the frame; a
//! channel's bug stays across cuts). Two copies of one logo on screen are two appearances.

use crate::analysers::follow;
use crate::analysers::rect::Rect;

/// A logo not found in this many analysed frames in a row has left the screen: one miss is
/// forgiven (motion blur, a hand passing in front).
const GONE_AFTER: u32 = 2;

/// One logo on screen over a span of time.
#[derive(Debug, Clone)]
pub struct Appearance {
    pub logo: usize,
    /// The best sighting's confidence, and where it was (normalised).
    pub confidence: f32,
    pub bbox: Rect,
    pub start: f64,
    pub end: f64,
}

/// A sighting in one frame.
#[derive(Debug, Clone, Copy)]
pub struct Sighting {
    pub logo: usize,
    pub confidence: f32,
    pub bbox: Rect,
}

struct Live {
    seen: Appearance,
    last: Rect,
    missed: u32,
}

#[derive(Default)]
pub struct Tracker {
    live: Vec<Live>,
    done: Vec<Appearance>,
}

impl Tracker {
    /// What the frame at `time` shows.
    pub fn frame(&mut self, time: f64, sightings: &[Sighting]) {
        let mut taken = vec![false; self.live.len()];
        let mut order: Vec<&Sighting> = sightings.iter().collect();
        order.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        for s in order {
            // The same logo's nearest live appearance, by overlap, then by distance.
            let near = |t: &Live| {
                let (a, b) = (centre(&t.last), centre(&s.bbox));
                (t.last.iou(&s.bbox), -(a.0 - b.0).hypot(a.1 - b.1))
            };
            let pick = (0..self.live.len())
                .filter(|&i| !taken[i] && self.live[i].seen.logo == s.logo)
                .max_by(|&i, &j| {
                    let (a, b) = (near(&self.live[i]), near(&self.live[j]));
                    a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1))
                });
            match pick {
                Some(i) => {
                    let t = &mut self.live[i];
                    t.seen.end = time;
                    t.last = s.bbox;
                    t.missed = 0;
                    if s.confidence > t.seen.confidence {
                        t.seen.confidence = s.confidence;
                        t.seen.bbox = s.bbox;
                    }
                    taken[i] = true;
                }
                None => {
                    self.live.push(Live {
                        seen: Appearance {
                            logo: s.logo,
                            confidence: s.confidence,
                            bbox: s.bbox,
                            start: time,
                            end: time,
                        },
                        last: s.bbox,
                        missed: 0,
                    });
                    taken.push(true);
                }
            }
        }
        let done = &mut self.done;
        follow::age(
            &mut self.live,
            taken,
            GONE_AFTER,
            |t| &mut t.missed,
            |t| done.push(t.seen),
        );
    }

    /// A frame that shows what the last one did: what is on screen stays on screen.
    pub fn still(&mut self, time: f64) {
        for t in &mut self.live {
            if t.missed == 0 {
                t.seen.end = time;
            }
        }
    }

    /// Every appearance, in order of first sight.
    pub fn finish(mut self) -> Vec<Appearance> {
        self.done.extend(self.live.into_iter().map(|t| t.seen));
        self.done.sort_by(|a, b| a.start.total_cmp(&b.start));
        self.done
    }
}

fn centre(r: &Rect) -> (f32, f32) {
    ((r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(logo: usize, x: f32, confidence: f32) -> Sighting {
        Sighting {
            logo,
            confidence,
            bbox: Rect {
                x0: x,
                y0: 0.1,
                x1: x + 0.1,
                y1: 0.2,
            },
        }
    }

    #[test]
    fn a_moving_logo_is_one_appearance_and_one_miss_is_forgiven() {
        let mut t = Tracker::default();
        t.frame(0.0, &[at(0, 0.1, 0.6)]);
        t.frame(1.0, &[at(0, 0.4, 0.9)]);
        t.frame(2.0, &[]);
        t.frame(3.0, &[at(0, 0.5, 0.7)]);
        t.frame(4.0, &[]);
        t.frame(5.0, &[]);
        t.frame(6.0, &[at(0, 0.5, 0.7)]);
        let a = t.finish();
        assert_eq!(a.len(), 2);
        assert_eq!((a[0].start, a[0].end), (0.0, 3.0));
        assert_eq!(a[0].confidence, 0.9);
        assert_eq!(a[0].bbox.x0, 0.4, "the box of the best sighting");
        assert_eq!((a[1].start, a[1].end), (6.0, 6.0));
    }

    #[test]
    fn two_copies_and_two_logos_are_separate_appearances() {
        let mut t = Tracker::default();
        t.frame(0.0, &[at(0, 0.1, 0.6), at(0, 0.7, 0.6), at(1, 0.4, 0.8)]);
        t.frame(1.0, &[at(0, 0.12, 0.6), at(0, 0.68, 0.6)]);
        t.still(2.0);
        let a = t.finish();
        assert_eq!(a.len(), 3);
        let copies: Vec<_> = a.iter().filter(|a| a.logo == 0).collect();
        assert!(copies.iter().all(|c| c.end == 2.0));
        assert!(copies[0].bbox.x0 < 0.2 && copies[1].bbox.x0 > 0.6);
        assert_eq!(a.iter().find(|a| a.logo == 1).unwrap().end, 0.0);
    }
}
