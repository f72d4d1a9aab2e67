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
const EMBED_EVERY: f64 = 5.0;
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
                    && matched[i].is_none_or(|t| time - self.live[t].last_embedded >= EMBED_EVERY)
            })
            .collect();
        let mut embeddings = vec![None; faces.len()];
        for (i, e) in wanted.iter().zip(embed(&wanted)) {
            embeddings[*i] = Some(e);
        }
        let mut seen = vec![false; self.live.len()];
        let mut born = Vec::new();
        for (i, face) in faces.iter().enumerate() {
            let embedding = embeddings[i].take();
            let same = matched[i].filter(|&t| {
                let first = self.live[t].embeddings.first();
                match (first, &embedding) {
                    (Some(a), Some(b)) => a.distance(b) < OTHER_PERSON,
                    _ => true,
                }
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
        for (track, seen) in std::mem::take(&mut self.live).into_iter().zip(seen) {
            match (seen, track.missed + 1 >= GONE_AFTER) {
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
