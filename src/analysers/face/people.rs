//! People within a job: followed faces grouped by embedding, so the same person across shots
//! shares one id, then named from the user's gallery.

use super::{Embedding, KnownFace};

/// Faces whose mean embeddings are closer than this are one person. dlib's own threshold is
/// 0.6 (99.38 % on LFW pairs); a job compares many faces with each other, so a little tighter
/// keeps two look-alikes apart.
pub const SAME_PERSON: f32 = 0.55;

/// A person of the job: the tracks (by index) that show them, and their gallery name.
#[derive(Debug, Clone)]
pub struct Person {
    pub tracks: Vec<usize>,
    pub name: Option<String>,
}

/// Group tracks into people, in order of first appearance. Each track joins the person whose
/// centre is nearest, if near enough; a track with no embedding (a face too small to embed)
/// is a person of its own.
pub fn group(tracks: &[Vec<Embedding>]) -> Vec<Person> {
    struct Group {
        sum: Vec<f32>,
        count: usize,
        tracks: Vec<usize>,
    }
    let mut groups: Vec<Group> = Vec::new();
    for (t, embeddings) in tracks.iter().enumerate() {
        let Some(centre) = Embedding::mean(embeddings) else {
            groups.push(Group {
                sum: Vec::new(),
                count: 0,
                tracks: vec![t],
            });
            continue;
        };
        let nearest = groups
            .iter_mut()
            .filter(|g| g.count > 0)
            .map(|g| {
                let mean: Vec<f32> = g.sum.iter().map(|s| s / g.count as f32).collect();
                (centre.distance_to(&mean), g)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        match nearest {
            Some((d, g)) if d < SAME_PERSON => {
                g.sum.iter_mut().zip(&centre.0).for_each(|(s, v)| *s += v);
                g.count += 1;
                g.tracks.push(t);
            }
            _ => groups.push(Group {
                sum: centre.0.to_vec(),
                count: 1,
                tracks: vec![t],
            }),
        }
    }
    groups
        .into_iter()
        .map(|g| Person {
            tracks: g.tracks,
            name: None,
        })
        .collect()
}

/// How sure a match at embedding distance `d` is: 1 for identical faces, 0.5 at dlib's
/// same-person threshold of 0.6, 0 at 1.2 and beyond.
pub fn match_confidence(d: f32) -> f32 {
    (1.0 - d / 1.2).clamp(0.0, 1.0)
}

/// The gallery name of a person with these embeddings: the known face nearest to any of them,
/// when its match confidence reaches `threshold`.
pub fn name(embeddings: &[&Embedding], gallery: &[KnownFace], threshold: f32) -> Option<String> {
    embeddings
        .iter()
        .flat_map(|e| gallery.iter().map(move |k| (e.distance(&k.embedding), k)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(d, _)| match_confidence(*d) >= threshold)
        .map(|(_, k)| k.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(base: f32, nudge: f32) -> Embedding {
        let mut e = [base; 128];
        e[0] += nudge;
        Embedding(e)
    }

    #[test]
    fn tracks_of_one_face_group_and_others_and_unembedded_ones_stand_alone() {
        let a = near(0.0, 0.0);
        let a2 = near(0.0, 0.3);
        let b = near(0.1, 0.0); // 1.13 from a
        let people = group(&[
            vec![a.clone()],
            vec![b.clone()],
            vec![],
            vec![a2.clone(), a.clone()],
        ]);
        let tracks: Vec<Vec<usize>> = people.iter().map(|p| p.tracks.clone()).collect();
        assert_eq!(tracks, [vec![0, 3], vec![1], vec![2]]);
    }

    #[test]
    fn names_come_from_the_nearest_known_face_within_the_threshold() {
        let gallery = [
            KnownFace {
                name: "A".into(),
                embedding: near(0.0, 0.0),
            },
            KnownFace {
                name: "B".into(),
                embedding: near(0.1, 0.0),
            },
        ];
        let seen = near(0.0, 0.36); // 0.36 from A: confidence 0.7
        assert_eq!(name(&[&seen], &gallery, 0.6), Some("A".into()));
        assert_eq!(name(&[&seen], &gallery, 0.75), None);
        assert_eq!(name(&[&seen], &[], 0.0), None);
        assert!((match_confidence(0.6) - 0.5).abs() < 1e-6);
        assert_eq!(match_confidence(2.0), 0.0);
    }
}
