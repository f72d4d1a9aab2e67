//! Descriptions composed from detections: one sentence per kind of finding (who appears,
//! logos, on-screen text, what is said, other sounds), each fact stated once.

use super::english::{capitalise, count, full_stop, join, join_or, language, quote};
use super::scene::{Kind, Scene};
use super::Describer;
use crate::analysers::AnalyseError;

/// On-screen lines quoted per shot; the rest are counted.
const LINES: usize = 3;
/// Characters of one quoted line, and of quoted speech.
const LINE_CHARS: usize = 60;
const SPEECH_CHARS: usize = 140;
/// Sounds named per shot.
const SOUNDS: usize = 3;

/// Labels of speech itself: what is said tells of them already when it was transcribed.
const SPEECH: [&str; 4] = [
    "Speech",
    "Child speech, kid speaking",
    "Conversation",
    "Narration, monologue",
];

/// Labels of a recording's space or quality rather than of something heard in it.
const AMBIENCE: [&str; 15] = [
    "Silence",
    "Inside, small room",
    "Inside, large room or hall",
    "Inside, public space",
    "Outside, urban or manmade",
    "Outside, rural or natural",
    "Reverberation",
    "Echo",
    "Noise",
    "Environmental noise",
    "Field recording",
    "Sound effect",
    "Sidetone",
    "Cacophony",
    "Static",
];

/// Umbrella labels: said only when nothing more precise was heard.
const GENERAL: [&str; 14] = [
    "Animal",
    "Domestic animals, pets",
    "Livestock, farm animals, working animals",
    "Wild animals",
    "Music",
    "Musical instrument",
    "Plucked string instrument",
    "Percussion",
    "Vehicle",
    "Motor vehicle (road)",
    "Aircraft",
    "Rail transport",
    "Mechanisms",
    "Tools",
];

/// Labels that name a kind of sound rather than one thing heard, and so take no article
/// ("music", "applause", "rain"); so do labels with "music", "speech" or "noise" in them,
/// activities ("typing") and plurals ("fireworks"). Any other takes "a" or "an".
const MASS: &[&str] = &[
    "Conversation",
    "Narration",
    "Babbling",
    "Laughter",
    "Applause",
    "Cheering",
    "Chatter",
    "Hubbub",
    "Rain",
    "Wind",
    "Thunder",
    "Water",
    "Fire",
    "Steam",
    "Static",
    "Jazz",
    "Blues",
    "Reggae",
    "Funk",
    "Disco",
    "Techno",
    "Opera",
    "Ska",
    "Flamenco",
    "Grunge",
    "Heavy metal",
    "Punk rock",
    "Rock and roll",
    "Country",
    "Bluegrass",
    "Progressive rock",
    "Psychedelic rock",
    "Rhythm and blues",
    "A capella",
    "Dubstep",
    "Drum and bass",
    "Electronica",
    "Afrobeat",
    "Chant",
    "Percussion",
    "Pizzicato",
    "Timpani",
    "Cutlery",
    "Liquid",
    "Glass",
    "Wood",
    "Crackle",
    "Distortion",
    "Vibration",
    "Gunfire",
    "Artillery fire",
    "Traffic noise",
];

/// Words that keep their capital inside a sentence.
const PROPER: [&str; 6] = [
    "Christmas",
    "Christian",
    "Middle",
    "French",
    "Hammond",
    "A capella",
];

/// Writes a description from the detections alone.
pub struct Composer;

impl Describer for Composer {
    fn source(&self) -> &'static str {
        "detections"
    }

    fn describe(&mut self, scene: &Scene) -> Result<String, AnalyseError> {
        if scene.looked_for.is_empty() {
            return Err(AnalyseError::Failed(
                "nothing to describe from: none of s2t, ocr, audiotag, face and logo completed"
                    .into(),
            ));
        }
        Ok(compose(scene))
    }
}

fn compose(scene: &Scene) -> String {
    let speech = scene.speech.as_deref().map(|s| said(s, scene));
    let sentences: Vec<String> = [
        people(scene),
        logos(&scene.logos),
        text(scene),
        speech,
        sounds(scene),
    ]
    .into_iter()
    .flatten()
    .map(full_stop)
    .collect();
    let shown = !scene.named.is_empty()
        || scene.strangers > 0
        || !scene.logos.is_empty()
        || !scene.text.is_empty();
    let missing: Vec<Kind> = if sentences.is_empty() {
        scene.looked_for.clone()
    } else if !shown {
        // Sound alone: say the picture showed nothing the job looks for.
        let visual = [Kind::People, Kind::Logos, Kind::Text];
        visual
            .into_iter()
            .filter(|k| scene.looked_for.contains(k))
            .collect()
    } else {
        Vec::new()
    };
    let mut out = sentences;
    if !missing.is_empty() {
        let nouns: Vec<String> = missing.iter().map(|k| k.noun().to_string()).collect();
        out.push(format!("No {} detected.", join_or(&nouns)));
    }
    out.join(" ")
}

fn people(scene: &Scene) -> Option<String> {
    let (named, others) = (&scene.named, scene.strangers);
    Some(match (named.len(), others) {
        (0, 0) => return None,
        (0, 1) => "A person appears".into(),
        (0, n) => format!("{} people appear", capitalise(&count(n))),
        (1, 0) => format!("{} appears", named[0]),
        (_, 0) => format!("{} appear", join(named)),
        (k, n) => {
            let verb = if k == 1 { "appears" } else { "appear" };
            let with = match n {
                1 => "another person".to_string(),
                n => format!("{} other people", count(n)),
            };
            format!("{} {verb} with {with}", join(named))
        }
    })
}

fn logos(names: &[String]) -> Option<String> {
    // A name that says "logo" itself is not said twice ("the Acme logo logo").
    let bare: Vec<String> = names
        .iter()
        .map(|n| {
            let cut = n.len().saturating_sub(" logo".len());
            match n.get(cut..) {
                Some(tail) if cut > 0 && tail.eq_ignore_ascii_case(" logo") => n[..cut].to_string(),
                _ => n.clone(),
            }
        })
        .collect();
    match bare.len() {
        0 => None,
        1 => Some(format!("The {} logo is visible", bare[0])),
        _ => Some(format!("The {} logos are visible", join(&bare))),
    }
}

fn text(scene: &Scene) -> Option<String> {
    let lines = &scene.text;
    if lines.is_empty() {
        return None;
    }
    let quoted: Vec<String> = lines
        .iter()
        .take(LINES)
        .map(|l| quote(l, LINE_CHARS))
        .collect();
    let more = lines.len().saturating_sub(LINES);
    let tail = match more {
        0 => String::new(),
        1 => ", and one more line".into(),
        n => format!(", and {} more lines", count(n)),
    };
    Some(format!("On-screen text reads {}{tail}", join(&quoted)))
}

fn said(speech: &str, scene: &Scene) -> String {
    let who = if scene
        .sounds
        .iter()
        .any(|s| s == "Child speech, kid speaking")
    {
        "A child"
    } else {
        "Someone"
    };
    let foreign = scene
        .language
        .as_deref()
        .filter(|l| *l != "en")
        .and_then(language)
        .map(|name| format!(", in {name},"))
        .unwrap_or_default();
    format!("{who} says{foreign} {}", quote(speech, SPEECH_CHARS))
}

fn sounds(scene: &Scene) -> Option<String> {
    let quoted = scene.speech.is_some();
    let candidates: Vec<&String> = scene
        .sounds
        .iter()
        .filter(|l| !AMBIENCE.contains(&l.as_str()))
        .filter(|l| !(quoted && SPEECH.contains(&l.as_str())))
        .collect();
    let precise = candidates.iter().any(|l| !GENERAL.contains(&l.as_str()));
    let mut phrases: Vec<String> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    for label in candidates {
        if precise && GENERAL.contains(&label.as_str()) {
            continue;
        }
        let head = label.split(',').next().unwrap_or(label).trim();
        let lower: Vec<String> = head
            .split([' ', '(', ')'])
            .filter(|w| w.len() > 2)
            .map(str::to_lowercase)
            .collect();
        // "Bird" after "Bird vocalization", "Music" after "Jazz music": one fact.
        if lower.iter().any(|w| words.contains(w)) {
            continue;
        }
        words.extend(lower);
        phrases.push(sound_phrase(head));
        if phrases.len() == SOUNDS {
            break;
        }
    }
    if phrases.is_empty() {
        return None;
    }
    Some(format!("{} can be heard", capitalise(&join(&phrases))))
}

/// A label's name as it reads inside a sentence: "a dog", "music", "Christmas music",
/// "a whimper" (for "Whimper (dog)": the qualifier is AudioSet's, not the reader's).
fn sound_phrase(head: &str) -> String {
    let head = head.split(" (").next().unwrap_or(head).trim();
    let proper = PROPER.iter().any(|p| head.starts_with(p));
    let name: String = if proper {
        head.to_string()
    } else {
        let mut c = head.chars();
        c.next()
            .map(|f| f.to_lowercase().chain(c).collect())
            .unwrap_or_default()
    };
    let lower = name.to_lowercase();
    let plural = lower.ends_with('s') && !lower.ends_with("ss") && !lower.ends_with("us");
    let mass = MASS.contains(&head)
        || ["music", "speech", "noise"]
            .iter()
            .any(|w| lower.contains(w))
        || lower.ends_with("ing")
        || plural;
    if mass {
        return name;
    }
    // "an organ", "a ukulele", "a unicycle": by sound, as far as a first letter tells.
    let vowel = lower.starts_with(['a', 'e', 'i', 'o'])
        || (lower.starts_with('u') && !lower.starts_with("uk") && !lower.starts_with("uni"));
    let article = if vowel { "an" } else { "a" };
    format!("{article} {name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene() -> Scene {
        Scene {
            span: Some((0.0, 5.0)),
            looked_for: vec![
                Kind::People,
                Kind::Logos,
                Kind::Text,
                Kind::Speech,
                Kind::Sounds,
            ],
            ..Scene::default()
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_empty_shot_says_what_was_looked_for_and_not_found() {
        assert_eq!(
            compose(&scene()),
            "No people, logos, text, speech or sounds detected."
        );
        let mut picture = scene();
        picture.looked_for = vec![Kind::People, Kind::Text];
        assert_eq!(compose(&picture), "No people or text detected.");
    }

    #[test]
    fn people_are_named_or_counted() {
        let mut s = scene();
        s.strangers = 2;
        assert!(compose(&s).starts_with("Two people appear."));
        s.named = strings(&["Ada Lovelace"]);
        assert!(compose(&s).starts_with("Ada Lovelace appears with two other people."));
        s.strangers = 1;
        s.named.push("Alan Turing".into());
        assert!(compose(&s).starts_with("Ada Lovelace and Alan Turing appear with another person."));
        s.strangers = 0;
        assert_eq!(compose(&s), "Ada Lovelace and Alan Turing appear.");
    }

    #[test]
    fn every_kind_of_finding_gets_its_sentence_once() {
        let mut s = scene();
        s.strangers = 1;
        s.logos = strings(&["Acme"]);
        s.text = strings(&["Open 24 hours", "Exit", "No parking", "Sale"]);
        s.speech = Some("we open at nine".into());
        s.sounds = strings(&[
            "Speech",
            "Music",
            "Jazz",
            "Dog",
            "Inside, small room",
            "Ukulele",
        ]);
        assert_eq!(
            compose(&s),
            "A person appears. The Acme logo is visible. On-screen text reads \"Open 24 hours\", \
             \"Exit\" and \"No parking\", and one more line. Someone says \"we open at nine\". \
             Jazz, a dog and a ukulele can be heard."
        );
    }

    #[test]
    fn sound_alone_says_the_picture_showed_nothing() {
        let mut s = scene();
        s.sounds = strings(&["Bird", "Bird vocalization, bird call, bird song", "Silence"]);
        assert_eq!(
            compose(&s),
            "A bird can be heard. No people, logos or text detected."
        );
    }

    #[test]
    fn sounds_and_logos_read_as_english_whatever_their_label() {
        assert_eq!(sound_phrase("Whimper (dog)"), "a whimper");
        assert_eq!(sound_phrase("Organ"), "an organ");
        assert_eq!(sound_phrase("Baby cry"), "a baby cry");
        assert_eq!(sound_phrase("Hip hop music"), "hip hop music");
        assert_eq!(sound_phrase("Christmas music"), "Christmas music");
        assert_eq!(sound_phrase("Fireworks"), "fireworks");
        assert_eq!(sound_phrase("Typing"), "typing");
        assert_eq!(sound_phrase("Bus"), "a bus");
        assert_eq!(
            logos(&strings(&["Acme Logo"])).as_deref(),
            Some("The Acme logo is visible")
        );
        assert_eq!(
            logos(&strings(&["GROẞ logo", "Logo"])).as_deref(),
            Some("The GROẞ and Logo logos are visible")
        );
    }

    #[test]
    fn nothing_looked_for_is_no_description() {
        let mut s = scene();
        s.looked_for.clear();
        assert!(Composer.describe(&s).is_err());
    }

    #[test]
    fn foreign_speech_names_its_language() {
        let mut s = scene();
        s.named = strings(&["Ada"]);
        s.speech = Some("Guten Tag".into());
        s.language = Some("de".into());
        assert_eq!(
            compose(&s),
            "Ada appears. Someone says, in German, \"Guten Tag\"."
        );
    }
}
