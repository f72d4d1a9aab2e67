//! `ocr` on real photographs, scans and screen text with hand transcripts
//! (scripts/fetch-fixtures.sh; sources and truth in tests/fixtures/ocr/README.md), run the way
//! users run it: `airscope analyze` on a file, and jobs through the API for PDFs and config.

mod common;

use std::path::Path;

use common::*;
use serde_json::{json, Value};

/// The `ocr` section of `airscope analyze --services ocr FILE`.
fn read(file: &Path) -> Value {
    let (doc, _dir) = analyze_file(file, "ocr");
    doc["message_payload"]["ocr"].clone()
}

/// What was read, in the order the section lists it (reading order for a still).
fn stream(section: &Value) -> String {
    section["detections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["text"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn truth(name: &str) -> Vec<String> {
    let stem = name.rsplit_once('.').unwrap().0;
    std::fs::read_to_string(fixture(&format!("ocr/{stem}.txt")))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Characters as a reader compares them: case, spacing and quote styles aside. (The
/// recogniser often drops the space between words, which no reader minds; scoring counts
/// letters.)
fn chars(text: &str) -> Vec<char> {
    text.to_lowercase()
        .chars()
        .map(|c| match c {
            '‘' | '’' | '`' => '\'',
            '“' | '”' => '"',
            c => c,
        })
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Edits to turn `truth` into `found` (Levenshtein). With `anywhere`, into the best-matching
/// stretch of `found` instead: for transcripts that hold only part of what is in the picture.
fn edits(truth: &[char], found: &[char], anywhere: bool) -> usize {
    let mut row: Vec<usize> = if anywhere {
        vec![0; found.len() + 1]
    } else {
        (0..=found.len()).collect()
    };
    for (i, t) in truth.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, f) in found.iter().enumerate() {
            let best = (diagonal + usize::from(t != f))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = best;
        }
    }
    if anywhere {
        *row.iter().min().unwrap()
    } else {
        row[found.len()]
    }
}

/// Character error rate of a whole transcript against everything read, in order.
fn cer(truth_lines: &[String], found: &str) -> f64 {
    let t = chars(&truth_lines.join(""));
    edits(&t, &chars(found), false) as f64 / t.len() as f64
}

#[test]
fn scene_text_photographs_are_read_within_15_percent_cer() {
    let photos = [
        "ocr_scene_notice_parking_sign.jpg",
        "ocr_scene_sports_centre_sign.jpg",
        "ocr_scene_copy_centre.jpg",
        "ocr_scene_generator_gm125.jpg",
        "ocr_scene_no_parking.jpg",
        "ocr_scene_priory_galleries.jpg",
        "ocr_scene_hotel.jpg",
        "ocr_scene_stationery_box.jpg",
        "ocr_scene_freephone_sign.jpg",
        "ocr_scene_fosters.jpg",
        "ocr_scene_sanyo_projector.jpg",
    ];
    let (mut errors, mut total) = (0, 0);
    let mut report = Vec::new();
    for name in photos {
        let section = read(&picture(name));
        let found = chars(&stream(&section));
        // The transcripts hold the certain text only (signs, not the small print around
        // them), so each line is matched where it reads best.
        for line in truth(name) {
            let t = chars(&line);
            let e = edits(&t, &found, true);
            report.push(format!("{name}: {line:?} {e} edits"));
            errors += e;
            total += t.len();
        }
        for d in section["detections"].as_array().unwrap() {
            let b = &d["bbox"];
            let (x, y, w, h) = (
                b["x"].as_f64().unwrap(),
                b["y"].as_f64().unwrap(),
                b["width"].as_f64().unwrap(),
                b["height"].as_f64().unwrap(),
            );
            assert!(
                x + w <= 1.0001 && y + h <= 1.0001 && w > 0.0 && h > 0.0,
                "{name}: {d}"
            );
            assert!(d["confidence"].as_f64().unwrap() >= 0.5, "{name}: {d}");
        }
    }
    let rate = errors as f64 / total as f64;
    assert!(
        rate <= 0.15,
        "CER {rate:.3} ({errors}/{total})\n{}",
        report.join("\n")
    );
    eprintln!("scene CER {rate:.3} ({errors}/{total})");
}

#[test]
fn screen_text_is_read_within_3_percent_cer_and_tilted_text_too() {
    let name = "ocr_shot_book_text.png";
    let straight = stream(&read(&picture(name)));
    let rate = cer(&truth(name), &straight);
    assert!(rate <= 0.03, "CER {rate:.3}:\n{straight}");
    eprintln!("{name}: CER {rate:.3}");
    // The same page turned by about 10 degrees.
    let tilted = stream(&read(&picture("ocr_shot_book_text_rotated.png")));
    let rate = cer(&truth(name), &tilted);
    assert!(rate <= 0.05, "CER {rate:.3} tilted:\n{tilted}");
    eprintln!("{name} tilted: CER {rate:.3}");
}

#[test]
fn scanned_pages_are_read_within_5_percent_cer() {
    for name in ["ocr_scan_congress_1871.jpg", "ocr_scan_typewriter_nl.png"] {
        let found = stream(&read(&picture(name)));
        let rate = cer(&truth(name), &found);
        assert!(rate <= 0.05, "{name}: CER {rate:.3}:\n{found}");
        eprintln!("{name}: CER {rate:.3}");
    }
}

#[test]
fn upside_down_text_is_turned_and_read() {
    let dir = tempfile::tempdir().unwrap();
    let name = "ocr_scene_freephone_sign.jpg";
    // A lossless half-turn of the real photo.
    let turned = ffmpeg_to(
        dir.path(),
        "turned.png",
        &["-i", arg(&picture(name)), "-vf", "hflip,vflip"],
    );
    let found = stream(&read(&turned));
    let rate = cer(&truth(name), &found);
    assert!(rate <= 0.15, "CER {rate:.3}:\n{found}");
}

#[test]
fn pictures_without_text_give_no_detections_whatever_their_size() {
    let dir = tempfile::tempdir().unwrap();
    for (name, size) in [("tiny.png", "8x8"), ("huge.png", "9000x6000")] {
        let blank = ffmpeg_to(
            dir.path(),
            name,
            &[
                "-f",
                "lavfi",
                "-i",
                &format!("color=c=0x406080:s={size}"),
                "-frames:v",
                "1",
            ],
        );
        let section = read(&blank);
        assert_eq!(section["detections"], json!([]), "{name}");
        assert_eq!(section["text"], json!([]), "{name}");
    }
}

/// A 1280x720 video of a real photograph with captions, each drawn from its `from` until (not
/// including) its `to` seconds.
fn captioned_video(dir: &Path, captions: &[(&str, f64, f64)], secs: u32) -> std::path::PathBuf {
    let font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    assert!(
        Path::new(font).is_file(),
        "fonts-dejavu-core is installed by scripts/setup.sh"
    );
    let mut filter = "scale=1280:720".to_string();
    for (text, from, to) in captions {
        filter.push_str(&format!(
            ",drawtext=fontfile={font}:text='{text}':fontsize=44:fontcolor=white:box=1:\
             boxcolor=black@0.7:boxborderw=12:x=(w-text_w)/2:y=h-120:enable='gte(t,{from})*lt(t,{to})'"
        ));
    }
    ffmpeg_to(
        dir,
        "captioned.mp4",
        &[
            "-loop",
            "1",
            "-framerate",
            "25",
            "-i",
            arg(&picture("ocr_scene_hotel.jpg")),
            "-t",
            &secs.to_string(),
            "-vf",
            &filter,
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

/// The detections whose text, as a reader compares it, is `text`.
fn detections_of<'a>(section: &'a Value, text: &str) -> Vec<&'a Value> {
    section["detections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| chars(d["text"].as_str().unwrap()) == chars(text))
        .collect()
}

#[test]
fn a_caption_on_screen_from_2_to_6_seconds_is_one_detection_with_its_times() {
    let dir = tempfile::tempdir().unwrap();
    // The next caption differs by one digit, in the same place: it is a new detection, not
    // the first one carried on.
    let video = captioned_video(
        dir.path(),
        &[
            ("Story 1 of 20 tonight", 2.0, 6.0),
            ("Story 2 of 20 tonight", 6.0, 8.0),
        ],
        10,
    );
    let section = read(&video);
    let first = detections_of(&section, "Story 1 of 20 tonight");
    assert_eq!(first.len(), 1, "{section}");
    // Frames are analysed every second: the times are within one interval of the truth.
    let (start, end) = (
        first[0]["start"].as_f64().unwrap(),
        first[0]["end"].as_f64().unwrap(),
    );
    assert!((2.0..=3.0).contains(&start), "{}", first[0]);
    assert!((5.0..=6.0).contains(&end), "{}", first[0]);
    let second = detections_of(&section, "Story 2 of 20 tonight");
    assert_eq!(second.len(), 1, "{section}");
    let (start, end) = (
        second[0]["start"].as_f64().unwrap(),
        second[0]["end"].as_f64().unwrap(),
    );
    assert!(
        (6.0..=7.0).contains(&start) && (7.0..=8.0).contains(&end),
        "{}",
        second[0]
    );
    assert_eq!(section["text"][0], "HOTEL", "{section}");
    // The sign in the photograph is on screen for the whole video: one detection too.
    let hotel = detections_of(&section, "HOTEL");
    assert_eq!(hotel.len(), 1, "{section}");
    assert_eq!(
        (hotel[0]["start"].as_f64(), hotel[0]["end"].as_f64()),
        (Some(0.0), Some(9.0))
    );
}

#[test]
fn a_video_without_text_gives_no_detections() {
    let dir = tempfile::tempdir().unwrap();
    let video = ffmpeg_to(
        dir.path(),
        "dark.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=black:s=640x360:d=3",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    assert_eq!(read(&video)["detections"], json!([]));
}

/// A PDF of `pages` pages, each a scan (the JPEG `scan`, `w` x `h` pixels, shown at 150 DPI)
/// with no text layer.
fn scanned_pdf(scan: &[u8], w: u32, h: u32, pages: usize) -> Vec<u8> {
    let (pw, ph) = (w as f64 * 72.0 / 150.0, h as f64 * 72.0 / 150.0);
    let image = pdf_stream(
        &format!(
            "/Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceRGB \
             /BitsPerComponent 8 /Filter /DCTDecode "
        ),
        scan,
    );
    pdf_pages(
        image,
        pages,
        &format!("/MediaBox [0 0 {pw:.2} {ph:.2}] /Resources << /XObject << /Im1 3 0 R >> >>"),
        |_| format!("q {pw:.2} 0 0 {ph:.2} 0 0 cm /Im1 Do Q"),
    )
}

#[tokio::test]
async fn scanned_pdf_pages_are_read_by_ocr_up_to_max_pages() {
    let (s, alice) = start_with_results();
    let dir = tempfile::tempdir().unwrap();
    let scan = std::fs::read(picture("ocr_scan_congress_1871.jpg")).unwrap();
    let pdf = dir.path().join("scanned.pdf");
    std::fs::write(&pdf, scanned_pdf(&scan, 1000, 1520, 300)).unwrap();
    let mut body = job_body("scanned.pdf", "media", "scanned.pdf", "results");
    body["Services"] = json!({"ocr": "", "pdf": {"config": {"max_pages": 2}}});
    let doc = s.complete_job(&alice, "scanned.pdf", &pdf, &body).await;
    let payload = &doc["message_payload"];
    let pages = payload["pdf"]["pages"].as_array().unwrap();
    assert_eq!(payload["pdf"]["page_count"], 300);
    assert_eq!(pages.len(), 2, "max_pages is honoured");
    let expected = truth("ocr_scan_congress_1871.jpg");
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(
            page["ocr"], true,
            "a page without a text layer is read by OCR"
        );
        let rate = cer(&expected, page["text"].as_str().unwrap());
        assert!(
            rate <= 0.05,
            "page {}: CER {rate:.3}\n{}",
            i + 1,
            page["text"]
        );
    }
    let detections = payload["ocr"]["detections"].as_array().unwrap();
    assert!(detections.iter().all(|d| d["page"] == 1 || d["page"] == 2));
    assert!(detections.iter().all(|d| d.get("start").is_none()));
    assert!(detections.iter().any(|d| d["page"] == 2));

    // `ocr: never`: the pdf service leaves the text layer (empty) alone.
    body["Services"] = json!({"pdf": {"config": {"max_pages": 1, "ocr": "never"}}});
    let doc = s.complete_job(&alice, "scanned.pdf", &pdf, &body).await;
    let page = &doc["message_payload"]["pdf"]["pages"][0];
    assert_eq!(
        (page["ocr"].clone(), page["text"].clone()),
        (json!(false), json!(""))
    );
}
