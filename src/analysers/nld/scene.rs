//! What the other analysers found, read once from their sections, and what of it falls in
//! one shot: the facts a description may state, each backed by a detection in that span.

use serde_json::Value;

use crate::analysers::logo::wordmark::compact;
use crate::analysers::pipeline::Findings;
use crate::analysers::rect::{from_bbox_json, Rect};
use crate::analysers::s2t;

/// Seconds a sound must fill in a shot to count as heard there (or half of a shorter shot):
/// an audio patch overlapping a cut by a fraction of a second belongs to the other shot.
const HEARD: f64 = 1.0;

/// Similarity (1 - edits / length) from which two readings in one place are one text.
const SAME_TEXT: f64 = 0.6;
/// Share of the smaller box two readings must have in common to be in one place.
const SAME_PLACE: f32 = 0.5;
/// Letters from which a reading held in a longer one in the same place is part of it.
const MIN_PART: usize = 4;
/// Letters and digits a line needs to be told: a lone character ("工", "-") is more often
/// a misreading than a caption.
const MIN_LINE: usize = 2;

/// A stretch of the media; `None` is a whole picture.
pub type Span = Option<(f64, f64)>;

/// The kinds of finding a description tells of, in the order it tells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    People,
    Logos,
    Text,
    Speech,
    Sounds,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::People => "people",
            Kind::Logos => "logos",
            Kind::Text => "text",
            Kind::Speech => "speech",
            Kind::Sounds => "sounds",
        }
    }
}

/// What one shot (or picture) shows and sounds like.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scene {
    pub span: Span,
    /// People the face gallery named, by first appearance.
    pub named: Vec<String>,
    /// People seen who are not in the gallery.
    pub strangers: usize,
    /// Logo names, by first appearance.
    pub logos: Vec<String>,
    /// On-screen lines, longest on screen first; one reading of each, none that only
    /// spells a logo above.
    pub text: Vec<String>,
    /// What is said, in the order it is said.
    pub speech: Option<String>,
    /// The language of the speech (ISO 639-1), when one was recognised.
    pub language: Option<String>,
    /// AudioSet labels, loudest share of the shot first.
    pub sounds: Vec<String>,
    /// The kinds of finding the job looked for, so an empty shot can say what was not found.
    pub looked_for: Vec<Kind>,
}

/// One detection and when it was seen (`(0, 0)` in a picture).
struct Seen<T> {
    start: f64,
    end: f64,
    what: T,
}

impl<T> Seen<T> {
    /// Seen in the span: sampled frames at or after its start and before its end.
    fn within(&self, span: Span) -> bool {
        span.is_none_or(|(s, e)| self.start < e && self.end >= s)
    }

    /// Seconds it fills of the span (the whole of it for a picture).
    fn overlap(&self, span: Span) -> f64 {
        span.map_or(f64::INFINITY, |(s, e)| {
            (self.end.min(e) - self.start.max(s)).max(0.0)
        })
    }
}

/// One line of on-screen text and where it was read (normalised).
struct Line {
    text: String,
    place: Option<Rect>,
}

impl Line {
    /// Whether two readings are of one text: in one place, and one holds the other or they
    /// differ in a letter or two ("BASMATI", "BASMAH", "SMATI" as the camera moves).
    fn same_text(&self, other: &Line) -> bool {
        let place = match (&self.place, &other.place) {
            (Some(a), Some(b)) => a.cover(b) >= SAME_PLACE,
            _ => false,
        };
        let (a, b) = (compact(&self.text), compact(&other.text));
        let (short, long) = if a.len() <= b.len() {
            (&a, &b)
        } else {
            (&b, &a)
        };
        let similar = (short.chars().count() >= MIN_PART && long.contains(short.as_str()))
            || strsim::normalized_levenshtein(&a, &b) >= SAME_TEXT;
        a == b || (place && similar)
    }
}

/// Every finding of a job, by kind.
pub struct Found {
    faces: Vec<Seen<(String, Option<String>)>>,
    text: Vec<Seen<Line>>,
    logos: Vec<Seen<String>>,
    sounds: Vec<Seen<(String, f64)>>,
    words: Vec<Seen<String>>,
    language: Option<String>,
    looked_for: Vec<Kind>,
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().map(Vec::as_slice).unwrap_or_default()
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().trim().to_string()
}

fn seen<T>(v: &Value, what: T) -> Seen<T> {
    let start = v["start"].as_f64().unwrap_or(0.0);
    Seen {
        start,
        end: v["end"].as_f64().unwrap_or(start),
        what,
    }
}

impl Found {
    pub fn read(findings: &Findings) -> Found {
        let mut looked_for = Vec::new();
        let mut section = |key: &str, kind: Kind| {
            let s = findings.get(key);
            if s.is_some() {
                looked_for.push(kind);
            }
            s.cloned().unwrap_or(Value::Null)
        };
        let faces = section("faces", Kind::People);
        let logos = section("logos", Kind::Logos);
        let ocr = section("ocr", Kind::Text);
        let speech = section("speech_to_text", Kind::Speech);
        let sounds = section("audio_classifications", Kind::Sounds);

        let name_of = |id: &str| {
            list(&faces, "people")
                .iter()
                .find(|p| p["person_id"] == id)
                .and_then(|p| p["name"].as_str().map(str::to_string))
        };
        let language = speech["language"]
            .as_str()
            .filter(|l| *l != "und")
            .map(str::to_string);
        let words = list(&speech, "segments")
            .iter()
            .flat_map(|s| list(s, "words"))
            .map(|w| seen(w, text(w, "word")))
            .filter(|w| !w.what.is_empty())
            .collect();
        Found {
            faces: list(&faces, "detections")
                .iter()
                .map(|d| {
                    let id = text(d, "person_id");
                    let name = name_of(&id);
                    seen(d, (id, name))
                })
                .collect(),
            text: list(&ocr, "detections")
                .iter()
                .map(|d| {
                    let line = Line {
                        text: text(d, "text"),
                        place: from_bbox_json(&d["bbox"]),
                    };
                    seen(d, line)
                })
                .filter(|d| compact(&d.what.text).chars().count() >= MIN_LINE)
                .collect(),
            logos: logos
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| seen(l, text(l, "name")))
                .collect(),
            sounds: sounds
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    seen(
                        s,
                        (text(s, "label"), s["confidence"].as_f64().unwrap_or(0.0)),
                    )
                })
                .collect(),
            words,
            language,
            looked_for,
        }
    }

    /// What the span shows and sounds like.
    pub fn scene(&self, span: Span) -> Scene {
        let mut named = Vec::new();
        let mut strangers = Vec::new();
        for f in by_start(self.faces.iter().filter(|f| f.within(span))) {
            let (id, name) = &f.what;
            match name {
                Some(n) => push_new(&mut named, n),
                None => push_new(&mut strangers, id),
            }
        }
        let mut logos = Vec::new();
        for l in by_start(self.logos.iter().filter(|l| l.within(span))) {
            push_new(&mut logos, &l.what);
        }
        // A line that only spells a logo's name is told as the logo.
        let spelled: Vec<String> = logos.iter().map(|l| compact(l)).collect();
        let text = self
            .lines(span)
            .into_iter()
            .filter(|l| !spelled.contains(&compact(l)))
            .collect();
        Scene {
            span,
            named,
            strangers: strangers.len(),
            logos,
            text,
            speech: self.speech(span),
            language: self.language.clone(),
            sounds: self.sounds(span),
            looked_for: self.looked_for.clone(),
        }
    }

    /// Lines on screen in the span, longest shown first; a line read twice is one line.
    fn lines(&self, span: Span) -> Vec<String> {
        type Shown<'a> = Vec<(&'a Line, f64, f64)>;
        let longest_first = |v: &mut Shown| {
            v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.total_cmp(&b.2)));
        };
        // Each reading with its time on screen; then readings of one text, told as the
        // reading shown longest.
        let mut readings: Shown = Vec::new();
        for t in self.text.iter().filter(|t| t.within(span)) {
            let time = t.overlap(span);
            match readings
                .iter_mut()
                .find(|r| compact(&r.0.text) == compact(&t.what.text))
            {
                Some(r) => r.1 += time,
                None => readings.push((&t.what, time, t.start)),
            }
        }
        longest_first(&mut readings);
        let mut texts: Shown = Vec::new();
        for r in readings {
            match texts.iter_mut().find(|k| k.0.same_text(r.0)) {
                Some(k) => k.1 += r.1,
                None => texts.push(r),
            }
        }
        longest_first(&mut texts);
        texts.into_iter().map(|t| t.0.text.clone()).collect()
    }

    /// The words said in the span: those whose middle falls in it.
    fn speech(&self, span: Span) -> Option<String> {
        let said: Vec<&str> = self
            .words
            .iter()
            .filter(|w| {
                let mid = (w.start + w.end) / 2.0;
                span.is_none_or(|(s, e)| mid >= s && mid < e)
            })
            .map(|w| w.what.as_str())
            .collect();
        let joiner = s2t::joiner(self.language.as_deref().unwrap_or("und"));
        (!said.is_empty()).then(|| said.join(joiner))
    }

    /// Labels heard for long enough in the span, strongest (time times confidence) first.
    fn sounds(&self, span: Span) -> Vec<String> {
        let least = span.map_or(0.0, |(s, e)| HEARD.min((e - s) / 2.0));
        // Per label: the seconds it fills, which decide whether it is heard, and those
        // seconds weighed by confidence, which decide the order.
        let mut heard: Vec<(String, f64, f64)> = Vec::new();
        for s in &self.sounds {
            let time = s.overlap(span);
            if time <= 0.0 {
                continue;
            }
            let (label, confidence) = &s.what;
            match heard.iter_mut().find(|h| &h.0 == label) {
                Some(h) => {
                    h.1 += time;
                    h.2 += time * confidence;
                }
                None => heard.push((label.clone(), time, time * confidence)),
            }
        }
        heard.retain(|h| h.1 >= least);
        heard.sort_by(|a, b| b.2.total_cmp(&a.2));
        heard.into_iter().map(|h| h.0).collect()
    }
}

fn by_start<'a, T: 'a>(seen: impl Iterator<Item = &'a Seen<T>>) -> Vec<&'a Seen<T>> {
    let mut v: Vec<&Seen<T>> = seen.collect();
    v.sort_by(|a, b| a.start.total_cmp(&b.start));
    v
}

fn push_new(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(item.to_string());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A box at `x`, as the metadata file writes it.
    fn at(x: f64) -> serde_json::Value {
        json!({"x": x, "y": 0.5, "width": 0.2, "height": 0.1})
    }

    /// A job's findings around a cut at 5 s.
    fn found() -> Found {
        let mut f = Findings::new();
        f.insert(
            "faces",
            json!({
                "people": [
                    {"person_id": "person_1", "name": "Ada", "known": true},
                    {"person_id": "person_2", "name": null, "known": false},
                ],
                "detections": [
                    {"person_id": "person_1", "start": 0.0, "end": 4.0},
                    // Seen on the first frame of the second shot, and after.
                    {"person_id": "person_2", "start": 5.0, "end": 9.0},
                    {"person_id": "person_2", "start": 9.0, "end": 9.0},
                ],
            }),
        );
        f.insert(
            "ocr",
            json!({"detections": [
                {"text": "BASMATI", "start": 5.0, "end": 8.0, "bbox": at(0.50)},
                {"text": "BASMAH", "start": 8.0, "end": 9.0, "bbox": at(0.51)},
                {"text": "SMATI", "start": 9.0, "end": 9.0, "bbox": at(0.52)},
                // The same reading elsewhere is the same text; a like one elsewhere is not.
                {"text": "BASMATI", "start": 6.0, "end": 6.0, "bbox": at(0.1)},
                {"text": "BASMAT", "start": 6.0, "end": 6.0, "bbox": at(0.1)},
                {"text": "工", "start": 5.0, "end": 9.0},
                {"text": "Acme", "start": 6.0, "end": 7.0},
                {"text": "Open", "start": 1.0, "end": 2.0},
                {"text": "***", "start": 5.0, "end": 9.0},
            ]}),
        );
        f.insert("logos", json!([{"name": "ACME", "start": 6.0, "end": 7.0}]));
        f.insert(
            "speech_to_text",
            json!({"language": "en", "segments": [{"words": [
                {"word": "hello", "start": 4.0, "end": 4.5},
                {"word": "there", "start": 4.8, "end": 5.4},
                {"word": "again", "start": 5.5, "end": 6.0},
            ]}]}),
        );
        f.insert(
            "audio_classifications",
            json!([
                {"label": "Music", "confidence": 0.9, "start": 0.0, "end": 5.5},
                {"label": "Dog", "confidence": 0.5, "start": 6.0, "end": 9.0},
                {"label": "Speech", "confidence": 0.8, "start": 4.0, "end": 6.0},
            ]),
        );
        Found::read(&f)
    }

    #[test]
    fn each_finding_belongs_to_the_shot_it_was_seen_or_heard_in() {
        let found = found();
        let first = found.scene(Some((0.0, 5.0)));
        assert_eq!(first.named, ["Ada"]);
        assert_eq!(first.strangers, 0);
        assert_eq!(first.text, ["Open"]);
        // A word said across the cut belongs where most of it is.
        assert_eq!(first.speech.as_deref(), Some("hello"));
        // Music spills half a second into the second shot; a second makes it heard there.
        assert_eq!(first.sounds, ["Music", "Speech"]);

        let second = found.scene(Some((5.0, 10.0)));
        assert!(second.named.is_empty());
        assert_eq!(second.strangers, 1, "one person, followed twice");
        assert_eq!(second.logos, ["ACME"]);
        assert_eq!(
            second.text,
            ["BASMATI", "BASMAT"],
            "misreadings in one place are one line, the logo's name is the logo, a lone \
             character or punctuation is nothing"
        );
        assert_eq!(second.speech.as_deref(), Some("there again"));
        assert_eq!(second.sounds, ["Dog", "Speech"]);
        assert_eq!(second.language.as_deref(), Some("en"));
        assert_eq!(second.looked_for.len(), 5);
    }

    #[test]
    fn a_picture_is_one_scene_of_everything_found() {
        let found = found();
        let all = found.scene(None);
        assert_eq!(all.named, ["Ada"]);
        assert_eq!(all.strangers, 1);
        // A picture's lines all show the whole time: in the order they were read.
        assert_eq!(all.text, ["Open", "BASMATI", "BASMAT"]);
        let nothing = Found::read(&Findings::new()).scene(None);
        assert!(nothing.looked_for.is_empty());
    }
}
