//! Faces over time: a face is followed from frame to frame by where it is (within a shot), so
//! a person on screen for 20 s is one appearance, and embeddings are computed only for new
//! faces and then every few seconds (they are the expensive step), which also catches a
//! different person taking the same place.

use super::Embedding;
use crate::analysers::rect::Rect;

/// Boxes overlapping at least this much (intersection over union) in consecutive samples are
/// the same face: faces move between samples a second apart, so this is looser than OCR's.
const SAME_PLACE: f32 = 0.3;
/// A followed face is embedded again after this many seconds.
const EMBED_EVERY: f64 = 10.0;
/// A new embedding this far from its track's first is another person in the same place.
const OTHER_PERSON: f32 = 0.6;
/// A face missing from this many samples in a row has left (one miss is forgiven: a head
/// turning away for a moment).
const GONE_AFTER: u32 = 2;

/// One detection as the tracker receives it.
#[derive(Debug, Clone)]
pub struct Face {
    /// Normalised to the frame.
    pub rect: Rect,
    pub confidence: f32,
    /// Whether the face is large enough to embed.
    pub embeddable: bool,
}

/// A face followed over a span of time.
#[derive(Debug, Clone)]
pub struct Track {
    pub start: f64,
    pub end: f64,
    pub confidence: f32,
    /// Where it was when it was most confidently seen.
    pub rect: Rect,
    pub embeddings: Vec<Embedding>,
    last_rect: Rect,
    last_embedded: f64,
    missed: u32,
}

#[derive(Default)]
pub struct Tracker {
    live: Vec<Track>,
    done: Vec<Track>,
}

impl Tracker {
    /// Add one sampled frame's faces. `embed` computes the embeddings of the faces whose
    /// indices it is given, in that order.
    pub fn frame(
        &mut self,
        time: f64,
        shot_start: bool,
        faces: &[Face],
        embed: impl FnOnce(&[usize]) -> Vec<Embedding>,
    ) {
        if shot_start {
            self.done.append(&mut self.live);
        }
        let matched = self.match_places(faces);
        let wanted: Vec<usize> = (0..faces.len())
            .filter(|&i| {
                faces[i].embeddable
                    && matched[i].is_none_or(|t| {
                        let track = &self.live[t];
                        track.embeddings.is_empty() || time - track.last_embedded >= EMBED_EVERY
                    })
            })
            .collect();
        let mut embeddings = vec![None; faces.len()];
        for (i, e) in wanted.iter().zip(embed(&wanted)) {
            embeddings[*i] = Some(e);
        }
        let mut seen = vec![false; self.live.len()];
        let mut replaced = vec![false; self.live.len()];
        let mut born = Vec::new();
        for (i, face) in faces.iter().enumerate() {
            let embedding = embeddings[i].take();
            let same = matched[i].filter(|&t| {
                let first = self.live[t].embeddings.first();
                let same = match (first, &embedding) {
                    (Some(a), Some(b)) => a.distance(b) < OTHER_PERSON,
                    _ => true,
                };
                // Whoever was here has gone: their track ends now.
                replaced[t] |= !same;
                same
            });
            match same {
                Some(t) => {
                    seen[t] = true;
                    let track = &mut self.live[t];
                    track.end = time;
                    track.last_rect = face.rect;
                    if face.confidence > track.confidence {
                        track.confidence = face.confidence;
                        track.rect = face.rect;
                    }
                    if let Some(e) = embedding {
                        track.embeddings.push(e);
                        track.last_embedded = time;
                    }
                }
                None => born.push(Track {
                    start: time,
                    end: time,
                    confidence: face.confidence,
                    rect: face.rect,
                    last_rect: face.rect,
                    embeddings: embedding.into_iter().collect(),
                    last_embedded: time,
                    missed: 0,
                }),
            }
        }
        let mut live = Vec::with_capacity(self.live.len() + born.len());
        let outcome = seen.into_iter().zip(replaced);
        for (track, (seen, replaced)) in std::mem::take(&mut self.live).into_iter().zip(outcome) {
            match (seen, replaced || track.missed + 1 >= GONE_AFTER) {
                (true, _) => live.push(Track { missed: 0, ..track }),
                (false, false) => live.push(Track {
                    missed: track.missed + 1,
                    ..track
                }),
                (false, true) => self.done.push(track),
            }
        }
        live.extend(born);
        self.live = live;
    }

    /// Every track, in order of first appearance.
    pub fn finish(mut self) -> Vec<Track> {
        self.done.append(&mut self.live);
        self.done.sort_by(|a, b| {
            a.start
                .total_cmp(&b.start)
                .then(a.rect.x0.total_cmp(&b.rect.x0))
        });
        self.done
    }

    /// For each face, the live track at its place, best overlaps first, one face per track.
    fn match_places(&self, faces: &[Face]) -> Vec<Option<usize>> {
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (i, face) in faces.iter().enumerate() {
            for (t, track) in self.live.iter().enumerate() {
                let iou = face.rect.iou(&track.last_rect);
                if iou >= SAME_PLACE {
                    pairs.push((iou, i, t));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut matched = vec![None; faces.len()];
        let mut taken = vec![false; self.live.len()];
        for (_, i, t) in pairs {
            if matched[i].is_none() && !taken[t] {
                matched[i] = Some(t);
                taken[t] = true;
            }
        }
        matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f32) -> Face {
        Face {
            rect: Rect {
                x0: x,
                y0: 0.2,
                x1: x + 0.2,
                y1: 0.5,
            },
            confidence: 0.9,
            embeddable: true,
        }
    }

    fn person(v: f32) -> Embedding {
        Embedding([v; 128])
    }

    /// Run frames one second apart; `who` gives the embedding of each face in a frame.
    fn run(frames: &[(bool, Vec<Face>, f32)]) -> Vec<Track> {
        let mut t = Tracker::default();
        for (i, (cut, faces, who)) in frames.iter().enumerate() {
            t.frame(i as f64, *cut, faces, |wanted| {
                wanted.iter().map(|_| person(*who)).collect()
            });
        }
        t.finish()
    }

    #[test]
    fn a_face_in_place_is_one_track_and_a_cut_or_an_absence_ends_it() {
        let still = |n| {
            (0..n)
                .map(|_| (false, vec![at(0.4)], 0.0))
                .collect::<Vec<_>>()
        };
        let tracks = run(&still(20));
        assert_eq!(tracks.len(), 1);
        assert_eq!((tracks[0].start, tracks[0].end), (0.0, 19.0));
        // Embedded when it appeared and every ten seconds after, not every frame.
        assert_eq!(tracks[0].embeddings.len(), 2);

        let mut frames = still(3);
        frames[1].1.clear(); // one missed frame is forgiven
        assert_eq!(run(&frames).len(), 1);
        let mut frames = still(4);
        frames[1].1.clear();
        frames[2].1.clear(); // two are not
        assert_eq!(run(&frames).len(), 2);
        let mut frames = still(4);
        frames[2].0 = true; // a cut
        assert_eq!(run(&frames).len(), 2);
    }

    #[test]
    fn someone_else_in_the_same_place_is_another_track() {
        let mut frames: Vec<_> = (0..12).map(|_| (false, vec![at(0.4)], 0.0)).collect();
        // Re-embedded at 10 s: a different face.
        frames[10].2 = 0.2;
        frames[11].2 = 0.2;
        let tracks = run(&frames);
        assert_eq!(tracks.len(), 2, "{tracks:?}");
        assert_eq!((tracks[1].start, tracks[1].end), (10.0, 11.0));
    }

    #[test]
    fn a_face_too_small_to_embed_is_embedded_as_soon_as_it_is_large_enough() {
        let mut small = at(0.4);
        small.embeddable = false;
        let tracks = run(&[(false, vec![small], 0.0), (false, vec![at(0.4)], 0.0)]);
        assert_eq!(tracks.len(), 1);
        assert_eq!(
            tracks[0].embeddings.len(),
            1,
            "embedded at the second frame"
        );
    }
}
