//! `nld` on real media with known content: a video cut together with FFmpeg from real
//! photographs and recordings (tests/fixtures/*/README.md), one shot per kind of finding, run
//! the way users run it (`airscope analyze`, with local galleries). Every fact a description
//! states is checked against the detections of the same shot.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// A folder of galleries: `faces/Barack Obama/`, and `logos/Bastoncini/` (the cookie box,
/// found by its features) and `logos/Basmati/` (found as a word mark in the text on screen).
fn galleries(dir: &Path) -> (PathBuf, PathBuf) {
    let faces = dir.join("faces");
    let logos = dir.join("logos");
    for folder in [
        faces.join("Barack Obama"),
        logos.join("Bastoncini"),
        logos.join("Basmati"),
    ] {
        std::fs::create_dir_all(folder).unwrap();
    }
    std::fs::copy(
        picture("face_obama_1.jpg"),
        faces.join("Barack Obama/obama_1.jpg"),
    )
    .unwrap();
    std::fs::copy(logo_picture("box.png"), logos.join("Bastoncini/box.png")).unwrap();
    std::fs::copy(typeset(dir, "BASMATI"), logos.join("Basmati/basmati.png")).unwrap();
    (faces, logos)
}

/// The shots of [`five_shots`]: what each shows and what is heard, and how long it lasts.
const SHOTS: [(&str, &str, f64); 5] = [
    ("Obama, close up", "a read passage of Jane Austen", 7.5),
    ("a NO PARKING sign", "jazz", 5.0),
    ("black", "silence", 4.0),
    ("Biden, close up", "a helicopter", 4.0),
    ("the Bastoncini box on a table", "applause", 4.0),
];

/// A 24.5 s 720p video of the five [`SHOTS`], each a still picture slowly zoomed, with its
/// own sound, cut hard.
fn five_shots(dir: &Path) -> PathBuf {
    let mut args: Vec<String> = Vec::new();
    let mut input = |a: &[&str]| args.extend(a.iter().map(|s| s.to_string()));
    input(&["-loop", "1", "-i", arg(&picture("face_obama_3.jpg"))]);
    input(&["-i", arg(&recording("s2t_en_austen_0870.wav"))]);
    input(&[
        "-loop",
        "1",
        "-i",
        arg(&picture("ocr_scene_no_parking.jpg")),
    ]);
    input(&["-i", arg(&recording("music_jazz.ogg"))]);
    input(&["-f", "lavfi", "-i", "color=c=black:s=1280x720:r=25"]);
    input(&["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono"]);
    input(&["-loop", "1", "-i", arg(&picture("face_biden.jpg"))]);
    input(&["-i", arg(&recording("helicopter.wav"))]);
    input(&["-loop", "1", "-i", arg(&logo_picture("box_in_scene.png"))]);
    input(&["-i", arg(&recording("applause.wav"))]);
    // Portraits: the head and shoulders at the top of the photograph.
    let head = "crop=iw:min(ih\\,iw):0:0,";
    let mut filter = String::new();
    for (i, (_, _, secs)) in SHOTS.iter().enumerate() {
        let crop = if i == 0 || i == 3 { head } else { "" };
        filter.push_str(&format!(
            "[{v}:v]{crop}scale=1280:720:force_original_aspect_ratio=decrease,\
             pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,\
             zoompan=z='1+0.002*on':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=1280x720:fps=25,\
             trim=duration={secs}[v{i}];\
             [{a}:a]aresample=16000,aformat=channel_layouts=mono,apad,atrim=duration={secs}[a{i}];",
            v = 2 * i,
            a = 2 * i + 1,
        ));
    }
    for i in 0..SHOTS.len() {
        filter.push_str(&format!("[v{i}][a{i}]"));
    }
    filter.push_str(&format!("concat=n={}:v=1:a=1[v][a]", SHOTS.len()));
    args.extend(
        [
            "-filter_complex",
            &filter,
            "-map",
            "[v]",
            "-map",
            "[a]",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ]
        .map(String::from),
    );
    ffmpeg_to(
        dir,
        "five_shots.mp4",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

/// The payload of `airscope analyze --services SERVICES FILE` with both galleries.
fn analyse(file: &Path, services: &str, galleries: &(PathBuf, PathBuf)) -> Value {
    let (doc, _dir) = analyze_with(
        file,
        services,
        &["--faces", arg(&galleries.0), "--logos", arg(&galleries.1)],
    );
    doc["message_payload"].clone()
}

fn list(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn time(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(0.0)
}

/// Seen in the span `(s, e)` (None: a picture) by the contract's sampled detections.
fn within(d: &Value, span: Option<(f64, f64)>) -> bool {
    span.is_none_or(|(s, e)| time(d, "start") < e && time(d, "end") >= s)
}

/// A count as the descriptions write it: a word up to ten, figures beyond.
fn number(word: &str) -> Option<usize> {
    let words = [
        "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    words
        .iter()
        .position(|w| w.eq_ignore_ascii_case(word))
        .map(|i| i + 2)
        .or_else(|| word.parse().ok())
}

/// Text as a quote compares it: spaces collapsed, lower case, double quotes made single.
fn squash(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .replace('"', "'")
}

/// The sentences of a description with every quote replaced by `Q`, so that what is quoted
/// cannot be taken for the description's own words.
fn sentences(text: &str) -> Vec<String> {
    let unquoted: String = text
        .split('"')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { "Q" } else { part })
        .collect();
    unquoted
        .split(". ")
        .map(|s| s.trim_end_matches('.').to_string())
        .collect()
}

/// Check every fact of `text` against the detections of `payload` in `span`, and that no
/// fact is told twice.
fn check_backed(text: &str, span: Option<(f64, f64)>, payload: &Value) {
    let told = sentences(text);
    let faces = &payload["faces"];
    let named = |name: &str| {
        list(&faces["detections"]).iter().any(|d| {
            within(d, span)
                && list(&faces["people"])
                    .iter()
                    .any(|p| p["person_id"] == d["person_id"] && p["name"] == name)
        })
    };
    let strangers = {
        let mut ids: Vec<&str> = list(&faces["detections"])
            .iter()
            .filter(|d| within(d, span))
            .filter(|d| {
                list(&faces["people"])
                    .iter()
                    .any(|p| p["person_id"] == d["person_id"] && p["known"] == false)
            })
            .map(|d| d["person_id"].as_str().unwrap())
            .collect();
        ids.sort();
        ids.dedup();
        ids.len()
    };
    let lines: Vec<String> = list(&payload["ocr"]["detections"])
        .iter()
        .filter(|d| within(d, span))
        .map(|d| squash(d["text"].as_str().unwrap()))
        .collect();
    let said = squash(
        &list(&payload["speech_to_text"]["segments"])
            .iter()
            .flat_map(|s| list(&s["words"]))
            .filter(|w| {
                let mid = (time(w, "start") + time(w, "end")) / 2.0;
                span.is_none_or(|(s, e)| mid >= s && mid < e)
            })
            .map(|w| w["word"].as_str().unwrap())
            .collect::<Vec<_>>()
            .join(" "),
    );
    // Each label heard in the span, with the seconds it fills there.
    let heard: Vec<(String, f64)> = list(&payload["audio_classifications"])
        .iter()
        .filter(|d| within(d, span))
        .map(|d| {
            let label = d["label"].as_str().unwrap();
            let head = label.split(',').next().unwrap().trim().to_lowercase();
            let fills = span.map_or(f64::INFINITY, |(s, e)| {
                time(d, "end").min(e) - time(d, "start").max(s)
            });
            (head, fills)
        })
        .collect();

    // Quotes: on-screen lines or words said in this shot, each quoted once.
    let quotes: Vec<&str> = text.split('"').skip(1).step_by(2).collect();
    for q in &quotes {
        let q = squash(q.trim_end_matches('…'));
        assert!(
            lines.iter().any(|l| l.contains(&q)) || said.contains(&q),
            "{q:?} is neither on screen nor said in {span:?}: {text}"
        );
        assert_eq!(
            quotes
                .iter()
                .filter(|o| squash(o.trim_end_matches('…')) == q)
                .count(),
            1,
            "{text}"
        );
    }
    if told.iter().any(|s| s.contains(" says")) {
        assert!(!said.is_empty(), "nothing said in {span:?}: {text}");
    }
    if told.iter().any(|s| s.starts_with("On-screen text reads")) {
        assert!(!lines.is_empty(), "no text in {span:?}: {text}");
    }
    // Names: only people the gallery named in this shot, and logos found in it; each once.
    let people: Vec<&str> = list(&faces["people"])
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    let logos: Vec<&str> = list(&payload["logos"])
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    for name in people.iter().chain(&logos) {
        let times = told.iter().map(|s| s.matches(name).count()).sum::<usize>();
        if times == 0 {
            continue;
        }
        assert_eq!(times, 1, "{name} told twice: {text}");
        let logo_here = list(&payload["logos"])
            .iter()
            .any(|l| l["name"] == *name && within(l, span));
        assert!(
            named(name) || logo_here,
            "{name} is not in {span:?}: {text}"
        );
    }
    // Strangers, counted.
    let counted = told
        .iter()
        .find_map(|s| {
            if s.starts_with("A person appears") || s.ends_with("with another person") {
                return Some(1);
            }
            let words: Vec<&str> = s.split(' ').collect();
            words
                .windows(2)
                .find(|w| w[1] == "people" || w[1] == "other")
                .and_then(|w| number(w[0]))
        })
        .unwrap_or(0);
    assert_eq!(counted, strangers, "{span:?}: {text}");
    // Sounds: each a label that fills a second of this shot (half of a shorter one).
    let least = span.map_or(0.0, |(s, e)| (0.5 * (e - s)).min(1.0));
    if let Some(sounds) = told.iter().find_map(|s| s.strip_suffix(" can be heard")) {
        for name in sounds.replace(" and ", ", ").split(", ") {
            let name = name.to_lowercase();
            let name = name.trim_start_matches("a ").trim_start_matches("an ");
            let fills: f64 = heard
                .iter()
                .filter(|(h, _)| h.split(" (").next() == Some(name))
                .map(|(_, f)| f)
                .sum();
            assert!(
                fills > 0.0 && fills >= least,
                "{name:?} not heard in {span:?} ({heard:?}): {text}"
            );
        }
    }
    // Absences: nothing of a kind said to be missing was found.
    if let Some(kinds) = told
        .last()
        .and_then(|s| s.strip_prefix("No "))
        .and_then(|s| s.strip_suffix(" detected"))
    {
        for kind in kinds.replace(" or ", ", ").split(", ") {
            let found = match kind {
                "people" => named("Barack Obama") || strangers > 0,
                "text" => !lines.is_empty(),
                "speech" => !said.is_empty(),
                // The end of the last shot's sound can spill into this one's first second.
                "sounds" => heard
                    .iter()
                    .any(|(h, fills)| h != "silence" && *fills >= least),
                "logos" => list(&payload["logos"]).iter().any(|l| within(l, span)),
                other => panic!("unknown kind {other:?}: {text}"),
            };
            assert!(!found, "{kind} found in {span:?}, yet: {text}");
        }
    }
    // No sentence twice.
    for s in &told {
        assert_eq!(told.iter().filter(|o| o == &s).count(), 1, "{text}");
    }
}

#[test]
fn every_shot_is_described_with_what_was_found_in_it_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let video = five_shots(dir.path());
    let galleries = galleries(dir.path());

    // Asked with ocr only, nld runs the other analysers it reads (logo among them, which
    // reads what ocr read), but the output has only the sections asked for.
    let alone = analyse(&video, "ocr,nld", &galleries);
    let services: Vec<&str> = list(&alone["services"])
        .iter()
        .map(|s| s["service_name"].as_str().unwrap())
        .collect();
    assert_eq!(services, ["air_ocr", "air_nld"], "{}", alone["services"]);
    for hidden in ["speech_to_text", "faces", "logos", "audio_classifications"] {
        assert!(alone.get(hidden).is_none(), "{hidden} is in the output");
    }
    let descriptions = list(&alone["descriptions"]);
    assert_eq!(descriptions.len(), SHOTS.len(), "{descriptions:#?}");

    // One description per shot, over the shot's own span.
    let mut start = 0.0;
    for (d, (_, _, secs)) in descriptions.iter().zip(SHOTS) {
        assert_eq!(d["source"], "detections");
        assert!((time(d, "start") - start).abs() <= 0.1, "{d}");
        assert!((time(d, "end") - (start + secs)).abs() <= 0.1, "{d}");
        start += secs;
    }
    let text: Vec<&str> = descriptions
        .iter()
        .map(|d| d["text"].as_str().unwrap())
        .collect();

    // What each shot is known to show and sound like.
    assert!(text[0].starts_with("Barack Obama appears."), "{}", text[0]);
    let quote = squash(text[0].split('"').nth(1).unwrap_or_default());
    for word in ["john dashwood", "leisure to consider", "prudently"] {
        assert!(quote.contains(word), "{word:?} not in {quote:?}");
    }
    // Spaces between words of a sign are the reader's least sure call: compare without.
    let letters = |s: &str| s.replace(' ', "").to_lowercase();
    assert!(letters(text[1]).contains("\"noparking\""), "{}", text[1]);
    assert!(text[1].contains("can be heard"), "{}", text[1]);
    assert!(
        !text[1].contains("appear") && !text[1].contains("says"),
        "{}",
        text[1]
    );
    assert_eq!(
        text[2],
        "No people, logos, text, speech or sounds detected."
    );
    assert!(text[3].starts_with("A person appears."), "{}", text[3]);
    assert!(
        text[3].to_lowercase().contains("a helicopter"),
        "{}",
        text[3]
    );
    assert!(!text[3].contains("says"), "{}", text[3]);
    // The box's features and the word on it; the word is told as the logo, not as text.
    assert!(
        text[4].starts_with("The Bastoncini and Basmati logos are visible.")
            || text[4].starts_with("The Basmati and Bastoncini logos are visible."),
        "{}",
        text[4]
    );
    assert!(!text[4].contains("\"BASMATI\""), "{}", text[4]);
    assert!(text[4].to_lowercase().contains("applause"), "{}", text[4]);

    // The same job with every section in the output: the descriptions are the same, and
    // each of their facts is backed by a detection of its shot.
    let all = analyse(&video, "s2t,ocr,audiotag,face,logo,nld", &galleries);
    assert_eq!(all["descriptions"], alone["descriptions"]);
    for d in descriptions {
        let span = Some((time(d, "start"), time(d, "end")));
        check_backed(d["text"].as_str().unwrap(), span, &all);
    }
}

#[test]
fn a_picture_gets_one_description_of_everyone_and_everything_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let galleries = galleries(dir.path());
    let group = analyse(&picture("face_group_six.jpg"), "face,ocr,nld", &galleries);
    let d = list(&group["descriptions"]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].get("start").is_none(),
        "a picture has no times: {}",
        d[0]
    );
    let text = d[0]["text"].as_str().unwrap();
    assert!(text.starts_with("Six people appear."), "{text}");
    check_backed(text, None, &group);

    let sign = analyse(
        &picture("ocr_scene_no_parking.jpg"),
        "face,ocr,nld",
        &galleries,
    );
    let text = sign["descriptions"][0]["text"].as_str().unwrap();
    assert!(
        text.replace(' ', "")
            .to_lowercase()
            .contains("on-screentextreads\"noparking\""),
        "{text}"
    );
    assert!(!text.contains("appear"), "{text}");
    check_backed(text, None, &sign);
}
