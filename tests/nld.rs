//! `nld` on real media with known content: a video cut together with FFmpeg from real
//! photographs and recordings (tests/fixtures/*/README.md), one shot per kind of finding, run
//! the way users run it (`airscope analyze`, with local galleries). Every fact a description
//! states is checked against the detections of the same shot.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// A folder of galleries: `faces/Barack Obama/` and `logos/Bastoncini/`.
fn galleries(dir: &Path) -> (PathBuf, PathBuf) {
    let faces = dir.join("faces");
    let logos = dir.join("logos");
    std::fs::create_dir_all(faces.join("Barack Obama")).unwrap();
    std::fs::create_dir_all(logos.join("Bastoncini")).unwrap();
    std::fs::copy(
        picture("face_obama_1.jpg"),
        faces.join("Barack Obama/obama_1.jpg"),
    )
    .unwrap();
    std::fs::copy(logo_picture("box.png"), logos.join("Bastoncini/box.png")).unwrap();
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
fn number(word: &str) -> usize {
    let words = [
        "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    words
        .iter()
        .position(|w| w.eq_ignore_ascii_case(word))
        .map(|i| i + 2)
        .unwrap_or_else(|| word.parse().expect("a count"))
}

fn squash(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Check every fact of `text` against the detections of `payload` in `span`, and that no
/// fact is told twice.
fn check_backed(text: &str, span: Option<(f64, f64)>, payload: &Value) {
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
        let mut ids: Vec<&Value> = list(&faces["detections"])
            .iter()
            .filter(|d| within(d, span))
            .filter(|d| {
                list(&faces["people"])
                    .iter()
                    .any(|p| p["person_id"] == d["person_id"] && p["known"] == false)
            })
            .map(|d| &d["person_id"])
            .collect();
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
    if text.contains(" says") {
        assert!(!said.is_empty(), "nothing said in {span:?}: {text}");
    }
    if text.contains("On-screen text reads") {
        assert!(!lines.is_empty(), "no text in {span:?}: {text}");
    }
    // Names: only people the gallery named in this shot, and logos found in it; each once.
    if text.contains("Barack Obama") {
        assert!(named("Barack Obama"), "{span:?}: {text}");
        assert_eq!(text.matches("Barack Obama").count(), 1, "{text}");
    }
    if text.contains("Bastoncini") {
        assert!(
            list(&payload["logos"])
                .iter()
                .any(|l| l["name"] == "Bastoncini" && within(l, span)),
            "{span:?}: {text}"
        );
        assert_eq!(text.matches("Bastoncini").count(), 1, "{text}");
    }
    // Strangers, counted.
    let one = text.contains("A person appears") || text.contains("with another person");
    let many = text
        .split(' ')
        .zip(text.split(' ').skip(1))
        .find(|(_, next)| *next == "people" || *next == "other")
        .map(|(n, _)| number(n));
    let counted = if one { 1 } else { many.unwrap_or(0) };
    assert_eq!(counted, strangers, "{span:?}: {text}");
    // Sounds: each a label heard in this shot.
    if let Some(before) = text
        .split(" can be heard")
        .next()
        .filter(|_| text.contains(" can be heard"))
    {
        let list_start = before.rfind(". ").map_or(0, |i| i + 2);
        let names = before[list_start..].replace(" and ", ", ");
        for name in names.split(", ") {
            let name = name.to_lowercase();
            let name = name
                .trim_start_matches("a ")
                .trim_start_matches("an ")
                .to_string();
            assert!(
                heard.iter().any(|(h, _)| *h == name),
                "{name:?} not heard in {span:?} ({heard:?}): {text}"
            );
        }
    }
    // Absences: nothing of a kind said to be missing was found.
    if let Some(rest) = text
        .split("No ")
        .nth(1)
        .filter(|r| r.ends_with(" detected."))
    {
        let kinds = rest.trim_end_matches(" detected.").replace(" or ", ", ");
        for kind in kinds.split(", ") {
            let none = match kind {
                "people" => named("Barack Obama") || strangers > 0,
                "text" => !lines.is_empty(),
                "speech" => !said.is_empty(),
                // A sound counts in a shot when it fills a second of it (docs/services.md):
                // the end of the last shot's sound can spill into this one's first second.
                "sounds" => heard
                    .iter()
                    .any(|(h, fills)| h != "silence" && *fills >= 1.0),
                "logos" => list(&payload["logos"]).iter().any(|l| within(l, span)),
                other => panic!("unknown kind {other:?}: {text}"),
            };
            assert!(!none, "{kind} found in {span:?}, yet: {text}");
        }
    }
    // No sentence twice.
    let sentences: Vec<&str> = text.split(". ").collect();
    for s in &sentences {
        assert_eq!(sentences.iter().filter(|o| o == &s).count(), 1, "{text}");
    }
}

#[test]
fn every_shot_is_described_with_what_was_found_in_it_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let video = five_shots(dir.path());
    let galleries = galleries(dir.path());

    // Asked alone, nld runs the analysers it reads, but the output has only its section.
    let alone = analyse(&video, "nld", &galleries);
    let services: Vec<&str> = list(&alone["services"])
        .iter()
        .map(|s| s["service_name"].as_str().unwrap())
        .collect();
    assert_eq!(services, ["air_nld"], "{}", alone["services"]);
    for hidden in [
        "speech_to_text",
        "ocr",
        "faces",
        "logos",
        "audio_classifications",
    ] {
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
    eprintln!("{text:#?}");

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
    assert!(
        text[4].contains("The Bastoncini logo is visible."),
        "{}",
        text[4]
    );
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
