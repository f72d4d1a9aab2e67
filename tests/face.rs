//! `face` on real photographs of people with known identities (scripts/fetch-fixtures.sh;
//! sources in tests/fixtures/face/README.md), run the way users run it: `airscope analyze`
//! with a local gallery (`--faces DIR`), and video made from those photographs with FFmpeg.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// The `faces` section of `airscope analyze --services face FILE [--faces GALLERY]`.
fn faces(file: &Path, gallery: Option<&Path>) -> Value {
    let args: Vec<&str> = gallery.map(|g| vec!["--faces", arg(g)]).unwrap_or_default();
    let (doc, _dir) = analyze_with(file, "face", &args);
    doc["message_payload"]["faces"].clone()
}

/// A gallery folder: one sub-folder per name, holding copies of the given photos.
fn gallery(dir: &Path, people: &[(&str, &[&str])]) -> PathBuf {
    let root = dir.join("gallery");
    for (name, photos) in people {
        std::fs::create_dir_all(root.join(name)).unwrap();
        for p in *photos {
            std::fs::copy(picture(p), root.join(name).join(p)).unwrap();
        }
    }
    root
}

fn list(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap()
}

/// The names given to the people of a section (None for strangers), in order.
fn names(section: &Value) -> Vec<Option<String>> {
    list(&section["people"])
        .iter()
        .map(|p| {
            assert_eq!(p["known"], p["name"].is_string(), "{p}");
            p["name"].as_str().map(str::to_string)
        })
        .collect()
}

#[test]
fn a_group_photo_yields_every_clearly_visible_face_as_its_own_person() {
    let section = faces(&picture("face_group_six.jpg"), None);
    let detections = list(&section["detections"]);
    assert_eq!(detections.len(), 6, "{section}");
    assert_eq!(
        list(&section["people"]).len(),
        6,
        "six different people: {section}"
    );
    let mut ids: Vec<&str> = detections
        .iter()
        .map(|d| d["person_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6);
    let boxes: Vec<[f64; 4]> = detections
        .iter()
        .map(|d| {
            let b = &d["bbox"];
            let v = |k: &str| b[k].as_f64().unwrap();
            [v("x"), v("y"), v("x") + v("width"), v("y") + v("height")]
        })
        .collect();
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            let apart = a[2] <= b[0] || b[2] <= a[0] || a[3] <= b[1] || b[3] <= a[1];
            assert!(apart, "six different places: {a:?} {b:?}");
        }
    }
    for d in detections {
        assert!(d.get("start").is_none(), "an image has no times: {d}");
        let b = &d["bbox"];
        // Faces in this photo are 8 to 10 % of its width.
        let w = b["width"].as_f64().unwrap();
        assert!((0.05..0.15).contains(&w), "{d}");
    }
}

#[test]
fn photos_of_the_same_person_match_and_photos_of_different_people_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let known = gallery(
        dir.path(),
        &[
            ("Barack Obama", &["face_obama_1.jpg"]),
            ("Joe Biden", &["face_biden.jpg"]),
        ],
    );
    for photo in ["face_obama_2.jpg", "face_obama_3.jpg"] {
        let section = faces(&picture(photo), Some(&known));
        assert_eq!(
            names(&section),
            [Some("Barack Obama".to_string())],
            "{photo}: {section}"
        );
    }
    // Six other people: none of them is either.
    let section = faces(&picture("face_group_six.jpg"), Some(&known));
    assert_eq!(names(&section), vec![None; 6], "{section}");
    // Without Biden in the gallery, his photo is a stranger, not the nearest known face.
    let obama_only = gallery(
        &dir.path().join("o"),
        &[("Barack Obama", &["face_obama_2.jpg"])],
    );
    let section = faces(&picture("face_biden.jpg"), Some(&obama_only));
    assert_eq!(names(&section), [None], "{section}");
}

#[test]
fn two_people_alternating_in_a_video_are_exactly_two_people() {
    let dir = tempfile::tempdir().unwrap();
    // Five 3 s shots of 720p video, each a slow zoom into the top of one photograph (head and
    // shoulders, as a close-up): Obama, Biden, Obama (another photo), Biden, Obama (a third).
    let shots = [
        "face_obama_1.jpg",
        "face_biden.jpg",
        "face_obama_2.jpg",
        "face_biden.jpg",
        "face_obama_3.jpg",
    ];
    let mut args: Vec<String> = Vec::new();
    let mut filter = String::new();
    for (i, shot) in shots.iter().enumerate() {
        args.extend(["-i".into(), arg(&picture(shot)).to_string()]);
        filter.push_str(&format!(
            "[{i}]crop=iw:min(ih\\,iw):0:0,scale=1280:720:force_original_aspect_ratio=decrease,\
             pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,\
             zoompan=z='1+0.1*on/75':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=75:s=1280x720:fps=25[v{i}];"
        ));
    }
    for i in 0..shots.len() {
        filter.push_str(&format!("[v{i}]"));
    }
    filter.push_str(&format!("concat=n={}:v=1:a=0[out]", shots.len()));
    args.extend(
        [
            "-filter_complex",
            &filter,
            "-map",
            "[out]",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ]
        .map(String::from),
    );
    let video = ffmpeg_to(
        dir.path(),
        "alternating.mp4",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let known = gallery(dir.path(), &[("Barack Obama", &["face_obama_1.jpg"])]);
    let section = faces(&video, Some(&known));

    let people = list(&section["people"]);
    assert_eq!(people.len(), 2, "{section}");
    let obama = people
        .iter()
        .find(|p| p["known"] == true)
        .expect("Obama named");
    assert_eq!(obama["name"], "Barack Obama");
    let biden = people.iter().find(|p| p["known"] == false).unwrap();
    let spans = |p: &Value| -> Vec<(f64, f64)> {
        list(&p["appearances"])
            .iter()
            .map(|a| (a["start"].as_f64().unwrap(), a["end"].as_f64().unwrap()))
            .collect()
    };
    // One appearance per shot, each lasting (nearly) the whole 3 s shot at 1 frame/s.
    let (o, b) = (spans(obama), spans(biden));
    assert_eq!(o.len(), 3, "{o:?}");
    assert_eq!(b.len(), 2, "{b:?}");
    for (shot, (start, end)) in [(0, o[0]), (1, b[0]), (2, o[1]), (3, b[1]), (4, o[2])] {
        let shot_start = 3.0 * shot as f64;
        assert!(
            (start - shot_start).abs() <= 1.0,
            "shot {shot}: {start}..{end}"
        );
        assert!(
            end - start >= 1.5,
            "followed through shot {shot}: {start}..{end}"
        );
    }
    // Each shot's face is one detection with a span, not one per sampled frame.
    assert_eq!(list(&section["detections"]).len(), 5, "{section}");
}

#[test]
fn a_hundred_face_crowd_is_a_hundred_detections_of_one_person() {
    let dir = tempfile::tempdir().unwrap();
    // The face of one photograph, 160 pixels square, tiled 10 by 10.
    let crowd = ffmpeg_to(
        dir.path(),
        "crowd.png",
        &[
            "-i",
            arg(&picture("face_obama_1.jpg")),
            "-vf",
            "crop=400:400:300:60,scale=160:160,loop=99:1:0,tile=10x10",
            "-frames:v",
            "1",
        ],
    );
    let section = faces(&crowd, None);
    let found = list(&section["detections"]).len();
    assert!(found >= 95, "{found} of 100 faces");
    assert_eq!(
        list(&section["people"]).len(),
        1,
        "one person, a hundred times"
    );
}

#[test]
fn pictures_without_a_usable_face_complete_with_no_people() {
    let dir = tempfile::tempdir().unwrap();
    // A street sign; and a face shrunk to 24 pixels, below what can be recognised.
    let tiny = ffmpeg_to(
        dir.path(),
        "tiny.png",
        &[
            "-i",
            arg(&picture("face_obama_1.jpg")),
            "-vf",
            "scale=80:-1",
        ],
    );
    for file in [picture("ocr_scene_hotel.jpg"), tiny] {
        let section = faces(&file, None);
        assert_eq!(
            section["people"],
            serde_json::json!([]),
            "{}",
            file.display()
        );
        assert_eq!(section["detections"], serde_json::json!([]));
    }
}

#[test]
fn a_local_gallery_photo_must_show_exactly_one_face() {
    let dir = tempfile::tempdir().unwrap();
    let bad = gallery(dir.path(), &[("Friends", &["face_group_six.jpg"])]);
    let run = std::process::Command::new(BIN)
        .args([
            "analyze",
            "--services",
            "face",
            "--faces",
            arg(&bad),
            "--out",
        ])
        .arg(dir.path())
        .arg(picture("face_obama_2.jpg"))
        .env("AIRSCOPE_MODELS__DIR", models_dir())
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("face_group_six.jpg") && err.contains("shows 6 faces"),
        "{err}"
    );
}
