//! Per-label time segments from per-patch scores, built as the patches arrive so memory
//! does not grow with the media's length: a label's consecutive patches at or above the
//! threshold form one segment, and gaps of up to [`BRIDGE`] patches below it do not split it.

use std::collections::BTreeMap;

/// Patches below the threshold that a segment bridges (about one second).
pub const BRIDGE: usize = 2;

#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub label: usize,
    pub start: f64,
    pub end: f64,
    /// Mean score of the patches that were at or above the threshold.
    pub confidence: f32,
}

struct Open {
    start: f64,
    end: f64,
    last: usize,
    sum: f32,
    hits: u32,
}

impl Open {
    fn close(&self, label: usize) -> Segment {
        Segment {
            label,
            start: self.start,
            end: self.end,
            confidence: self.sum / self.hits as f32,
        }
    }
}

pub struct Segments {
    threshold: f32,
    open: BTreeMap<usize, Open>,
    done: Vec<Segment>,
}

impl Segments {
    pub fn new(threshold: f32) -> Segments {
        Segments {
            threshold,
            open: BTreeMap::new(),
            done: Vec::new(),
        }
    }

    /// Patch number `index` covers `start..end` (seconds) and scored `scores` per label.
    pub fn push(&mut self, index: usize, start: f64, end: f64, scores: &[f32]) {
        for (label, &score) in scores.iter().enumerate() {
            if score < self.threshold {
                continue;
            }
            let open = self.open.entry(label).or_insert(Open {
                start,
                end,
                last: index,
                sum: 0.0,
                hits: 0,
            });
            open.end = end;
            open.last = index;
            open.sum += score;
            open.hits += 1;
        }
        let done = &mut self.done;
        self.open.retain(|label, o| {
            let stale = index - o.last > BRIDGE;
            if stale {
                done.push(o.close(*label));
            }
            !stale
        });
    }

    /// Every segment, by start time, then by confidence, highest first.
    pub fn finish(mut self) -> Vec<Segment> {
        self.done
            .extend(self.open.iter().map(|(label, o)| o.close(*label)));
        self.done.sort_by(|a, b| {
            a.start
                .total_cmp(&b.start)
                .then(b.confidence.total_cmp(&a.confidence))
                .then(a.label.cmp(&b.label))
        });
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(patches: &[[f32; 2]]) -> Vec<Segment> {
        let mut s = Segments::new(0.5);
        for (i, p) in patches.iter().enumerate() {
            s.push(i, i as f64, i as f64 + 1.0, p);
        }
        s.finish()
    }

    #[test]
    fn runs_merge_short_gaps_bridge_and_long_gaps_split() {
        let got = run(&[
            [0.9, 0.1],
            [0.7, 0.1],
            [0.1, 0.1], // bridged
            [0.8, 0.6],
            [0.1, 0.1],
            [0.1, 0.1],
            [0.1, 0.1], // three below: split
            [0.6, 0.1],
        ]);
        let spans: Vec<(usize, f64, f64)> = got.iter().map(|s| (s.label, s.start, s.end)).collect();
        assert_eq!(spans, vec![(0, 0.0, 4.0), (1, 3.0, 4.0), (0, 7.0, 8.0)]);
        assert!((got[0].confidence - 0.8).abs() < 1e-6);
    }

    #[test]
    fn nothing_above_the_threshold_gives_nothing() {
        assert!(run(&[[0.2, 0.4], [0.49, 0.0]]).is_empty());
    }
}
