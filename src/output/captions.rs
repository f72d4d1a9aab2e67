//! Captions: the `speech_to_text` section as WebVTT and SRT side files. Cues follow common
//! broadcast practice: at most two lines of at most 42 characters, at most 7 s on screen, a
//! new cue at each transcript segment, and short cues held up to 1 s when the next one
//! allows, so they can be read.

use serde_json::Value;

const LINE: usize = 42;
const LINES: usize = 2;
const MAX_SECS: f64 = 7.0;
const MIN_SECS: f64 = 1.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub start: f64,
    pub end: f64,
    pub lines: Vec<String>,
}

/// A file written beside the metadata file.
pub struct SideFile {
    pub key: String,
    pub body: Vec<u8>,
    pub content_type: &'static str,
}

/// Cues from the words of a `speech_to_text` section. `joiner` goes between words (empty for
/// languages written without spaces).
pub fn cues(section: &Value, joiner: &str) -> Vec<Cue> {
    let mut cues: Vec<Cue> = Vec::new();
    let empty = Vec::new();
    let segments = section["segments"].as_array().unwrap_or(&empty);
    for segment in segments {
        let mut cue: Option<Cue> = None;
        for w in segment["words"].as_array().unwrap_or(&empty) {
            let (Some(word), Some(start), Some(end)) =
                (w["word"].as_str(), w["start"].as_f64(), w["end"].as_f64())
            else {
                continue;
            };
            if let Some(c) = cue.as_mut() {
                if end - c.start <= MAX_SECS && place(&mut c.lines, word, joiner) {
                    c.end = end;
                    continue;
                }
            }
            cues.extend(cue.take());
            let mut lines = Vec::new();
            place(&mut lines, word, joiner);
            cue = Some(Cue { start, end, lines });
        }
        cues.extend(cue);
    }
    // Hold short cues up to the minimum, never into the next one.
    for i in 0..cues.len() {
        let next = cues.get(i + 1).map_or(f64::INFINITY, |n| n.start);
        let c = &mut cues[i];
        if c.end - c.start < MIN_SECS {
            c.end = (c.start + MIN_SECS).min(next).max(c.end);
        }
    }
    cues
}

/// Add `word` to the last line, or a new one; false when the cue is full.
fn place(lines: &mut Vec<String>, word: &str, joiner: &str) -> bool {
    let width = |s: &str| s.chars().count();
    let room = lines.len() < LINES;
    match lines.last_mut() {
        Some(last) if width(last) + width(joiner) + width(word) <= LINE => {
            last.push_str(joiner);
            last.push_str(word);
            true
        }
        _ if room => {
            lines.push(word.to_string());
            true
        }
        _ => false,
    }
}

/// `HH:MM:SS.mmm` (WebVTT) or `HH:MM:SS,mmm` (SRT).
fn timestamp(secs: f64, separator: char) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{separator}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

pub fn vtt(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n");
    for c in cues {
        // In WebVTT cue text `<` opens a tag and `&` an entity ("AT&T" must not).
        let text = c
            .lines
            .join("\n")
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        out.push_str(&format!(
            "\n{} --> {}\n{text}\n",
            timestamp(c.start, '.'),
            timestamp(c.end, '.'),
        ));
    }
    out
}

pub fn srt(cues: &[Cue]) -> String {
    let mut out = String::new();
    for (i, c) in cues.iter().enumerate() {
        out.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            timestamp(c.start, ','),
            timestamp(c.end, ','),
            c.lines.join("\n")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn section(words: &[(&str, f64, f64)]) -> Value {
        let words: Vec<Value> = words
            .iter()
            .map(|(w, s, e)| json!({"word": w, "start": s, "end": e, "confidence": 0.9}))
            .collect();
        json!({"segments": [{"words": words}]})
    }

    #[test]
    fn lines_wrap_at_42_characters_and_cues_hold_two_lines() {
        let words: Vec<(&str, f64, f64)> = (0..30)
            .map(|i| ("word", i as f64 * 0.2, i as f64 * 0.2 + 0.15))
            .collect();
        let cues = cues(&section(&words), " ");
        assert!(cues.len() >= 2, "{cues:?}");
        for c in &cues {
            assert!(c.lines.len() <= 2);
            assert!(c.lines.iter().all(|l| l.chars().count() <= 42), "{c:?}");
        }
        let all: Vec<&str> = cues
            .iter()
            .flat_map(|c| c.lines.iter().flat_map(|l| l.split(' ')))
            .collect();
        assert_eq!(all.len(), 30, "every word appears once");
    }

    #[test]
    fn a_cue_lasts_at_most_seven_seconds() {
        let words: Vec<(&str, f64, f64)> = (0..10)
            .map(|i| ("a", i as f64 * 1.5, i as f64 * 1.5 + 0.5))
            .collect();
        for c in cues(&section(&words), " ") {
            assert!(c.end - c.start <= MAX_SECS, "{c:?}");
        }
    }

    #[test]
    fn short_cues_are_held_but_never_overlap() {
        let s = json!({"segments": [
            {"words": [{"word": "Hi.", "start": 1.0, "end": 1.2}]},
            {"words": [{"word": "Yes.", "start": 1.6, "end": 1.8}]},
            {"words": [{"word": "Bye.", "start": 5.0, "end": 5.1}]}
        ]});
        let c = cues(&s, " ");
        assert_eq!(c.len(), 3);
        assert_eq!((c[0].start, c[0].end), (1.0, 1.6));
        assert_eq!((c[2].start, c[2].end), (5.0, 6.0));
    }

    #[test]
    fn formats_follow_webvtt_and_srt() {
        let c = vec![Cue {
            start: 3661.5,
            end: 3662.25,
            lines: vec!["Hello".into(), "world".into()],
        }];
        assert_eq!(
            vtt(&c),
            "WEBVTT\n\n01:01:01.500 --> 01:01:02.250\nHello\nworld\n"
        );
        assert_eq!(
            srt(&c),
            "1\n01:01:01,500 --> 01:01:02,250\nHello\nworld\n\n"
        );
    }
}
