//! `logo` on real photographs (OpenCV's sample pictures, scripts/fetch-fixtures.sh; sources and
//! truth in tests/fixtures/logo/README.md), run the way users run it: `airscope analyze` with a
//! local gallery (`--logos DIR`), and video made from those photographs with FFmpeg.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// The `logos` section of `airscope analyze --services logo FILE --logos GALLERY`.
fn logos(file: &Path, gallery: &Path) -> Vec<Value> {
    let (doc, _dir) = analyze_with(file, "logo", &["--logos", arg(gallery)]);
    doc["message_payload"]["logos"].as_array().unwrap().clone()
}

/// A gallery folder: one sub-folder per logo name, holding the given images.
fn gallery(dir: &Path, logos: &[(&str, &Path)]) -> PathBuf {
    let root = dir.join("gallery");
    for (name, image) in logos {
        std::fs::create_dir_all(root.join(name)).unwrap();
        std::fs::copy(image, root.join(name).join(image.file_name().unwrap())).unwrap();
    }
    root
}

/// A crop of graf1.png (the wall painting seen face on) as a logo reference: `CROP` is its
/// (x, y, width, height).
const CROP: (u32, u32, u32, u32) = (250, 150, 300, 300);

fn graffiti_reference(dir: &Path) -> PathBuf {
    let (x, y, w, h) = CROP;
    let path = dir.join("graffiti.png");
    image::open(logo_picture("graf1.png"))
        .unwrap()
        .crop_imm(x, y, w, h)
        .save(&path)
        .unwrap();
    path
}

/// The five-logo gallery of these tests: the cookie box, the painting's crop, and OpenCV's
/// Linux, Windows and OpenCV logos.
fn standard_gallery(dir: &Path) -> PathBuf {
    let graffiti = graffiti_reference(dir);
    gallery(
        dir,
        &[
            ("Bastoncini", &logo_picture("box.png")),
            ("Graffiti", &graffiti),
            ("Linux", &logo_picture("linuxlogo.jpg")),
            ("Windows", &logo_picture("windowslogo.jpg")),
            ("OpenCV", &logo_picture("opencv-logo.png")),
        ],
    )
}

/// (x0, y0, x1, y1) of an entry's bbox, normalised.
fn corners(e: &Value) -> (f64, f64, f64, f64) {
    let b = &e["bbox"];
    let v = |k: &str| b[k].as_f64().unwrap();
    (v("x"), v("y"), v("x") + v("width"), v("y") + v("height"))
}

fn iou(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> f64 {
    let w = (a.2.min(b.2) - a.0.max(b.0)).max(0.0);
    let h = (a.3.min(b.3) - a.1.max(b.1)).max(0.0);
    let area = |r: (f64, f64, f64, f64)| (r.2 - r.0) * (r.3 - r.1);
    w * h / (area(a) + area(b) - w * h)
}

#[test]
fn a_product_photographed_in_a_cluttered_scene_is_found_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let found = logos(
        &logo_picture("box_in_scene.png"),
        &standard_gallery(dir.path()),
    );
    assert_eq!(
        found.len(),
        1,
        "only the cookie box is in the scene: {found:?}"
    );
    let e = &found[0];
    assert_eq!(e["name"], "Bastoncini");
    assert_eq!(
        e["logo_id"], "Bastoncini",
        "a local gallery's ids are its folder names"
    );
    assert_eq!(e["method"], "keypoints");
    assert!(e.get("start").is_none(), "an image has no times: {e}");
    // AiR's example threshold: a clear view of a logo passes it.
    assert!(e["confidence"].as_f64().unwrap() >= 0.85, "{e}");
    // Hand-annotated box (tests/fixtures/logo/README.md), in pixels of the 512x384 scene.
    let truth = (93.0 / 512.0, 162.0 / 384.0, 280.0 / 512.0, 296.0 / 384.0);
    assert!(iou(corners(e), truth) >= 0.5, "{e} vs {truth:?}");
}

/// graf3.png's ground-truth homography from graf1.png (H1to3p.xml), row-major.
fn graf_homography() -> [f64; 9] {
    let xml = std::fs::read_to_string(logo_picture("h1to3p.xml")).unwrap();
    let data = xml
        .split("<data>")
        .nth(1)
        .unwrap()
        .split("</data>")
        .next()
        .unwrap();
    let v: Vec<f64> = data
        .split_whitespace()
        .map(|t| t.parse().unwrap())
        .collect();
    v.try_into().unwrap()
}

#[test]
fn a_planar_logo_seen_from_an_angle_is_found_where_the_true_homography_puts_it() {
    let dir = tempfile::tempdir().unwrap();
    let found = logos(&logo_picture("graf3.png"), &standard_gallery(dir.path()));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["name"], "Graffiti");
    let h = graf_homography();
    let (x, y, w, hh) = CROP;
    let (x, y, w, hh) = (x as f64, y as f64, w as f64, hh as f64);
    let mapped: Vec<(f64, f64)> = [(x, y), (x + w, y), (x + w, y + hh), (x, y + hh)]
        .iter()
        .map(|&(px, py)| {
            let z = h[6] * px + h[7] * py + h[8];
            (
                (h[0] * px + h[1] * py + h[2]) / z / 800.0,
                (h[3] * px + h[4] * py + h[5]) / z / 640.0,
            )
        })
        .collect();
    let truth = (
        mapped.iter().map(|p| p.0).fold(f64::MAX, f64::min),
        mapped.iter().map(|p| p.1).fold(f64::MAX, f64::min),
        mapped.iter().map(|p| p.0).fold(f64::MIN, f64::max),
        mapped.iter().map(|p| p.1).fold(f64::MIN, f64::max),
    );
    assert!(
        iou(corners(&found[0]), truth) >= 0.5,
        "{} vs {truth:?}",
        found[0]
    );
}

#[test]
fn pictures_without_an_enrolled_logo_report_none() {
    let dir = tempfile::tempdir().unwrap();
    let gallery = standard_gallery(dir.path());
    let negatives: Vec<PathBuf> =
        std::fs::read_dir(logo_picture("box.png").with_file_name("negative"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .chain(["face_group_six.jpg", "face_obama_1.jpg", "face_biden.jpg"].map(picture))
            .collect();
    assert!(negatives.len() >= 20, "{negatives:?}");
    for file in &negatives {
        let found = logos(file, &gallery);
        assert!(found.is_empty(), "{}: {found:?}", file.display());
    }
}

#[test]
fn a_logo_whose_name_is_written_in_the_picture_is_found_as_a_word_mark() {
    let dir = tempfile::tempdir().unwrap();
    let basmati = typeset(dir.path(), "BASMATI");
    let casbah = typeset(dir.path(), "Casbah");
    let gallery = gallery(dir.path(), &[("Basmati", &basmati), ("Casbah", &casbah)]);
    let (doc, _out) = analyze_with(
        &logo_picture("box_in_scene.png"),
        "logo",
        &["--logos", arg(&gallery)],
    );
    assert!(
        doc["message_payload"].get("ocr").is_none(),
        "the text read for word marks is not an `ocr` section: ocr was not requested"
    );
    let found = doc["message_payload"]["logos"].as_array().unwrap().clone();
    let marks: Vec<&Value> = found.iter().filter(|e| e["method"] == "wordmark").collect();
    let named = |n: &str| marks.iter().find(|e| e["name"] == n).copied();
    // The rice box's "BASMATI" (hand-annotated, tests/fixtures/logo/README.md).
    let b = named("Basmati").unwrap_or_else(|| panic!("{found:?}"));
    let truth = (288.0 / 512.0, 213.0 / 384.0, 340.0 / 512.0, 250.0 / 384.0);
    assert!(iou(corners(b), truth) >= 0.5, "{b} vs {truth:?}");
    // Its brand, "Casbah", which OCR reads with one letter wrong.
    assert!(named("Casbah").is_some(), "{found:?}");
}

#[test]
fn a_logo_in_a_video_is_one_appearance_from_its_first_to_its_last_frame() {
    let dir = tempfile::tempdir().unwrap();
    // 3 s of a picture without the logo, 4 s of the scene with it (slowly zoomed, so the frames
    // change), 3 s without again; 720p.
    let scene =
        "[1:v]scale=1280:960,zoompan=z='1+0.002*on':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'\
                 :d=1:s=1280x720:fps=25,trim=duration=4,setsar=1[s]";
    let still = |i: usize| format!("[{i}:v]scale=1280:720,setsar=1,fps=25,trim=duration=3[n{i}]");
    let video = ffmpeg_to(
        dir.path(),
        "logo.mp4",
        &[
            "-loop",
            "1",
            "-i",
            arg(&logo_picture("negative/messi5.jpg")),
            "-loop",
            "1",
            "-i",
            arg(&logo_picture("box_in_scene.png")),
            "-loop",
            "1",
            "-i",
            arg(&logo_picture("negative/home.jpg")),
            "-filter_complex",
            &format!(
                "{};{scene};{};[n0][s][n2]concat=n=3:v=1[v]",
                still(0),
                still(2)
            ),
            "-map",
            "[v]",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let gallery = gallery(dir.path(), &[("Bastoncini", &logo_picture("box.png"))]);
    let found = logos(&video, &gallery);
    assert_eq!(found.len(), 1, "{found:?}");
    let (start, end) = (
        found[0]["start"].as_f64().unwrap(),
        found[0]["end"].as_f64().unwrap(),
    );
    assert!((2.0..=4.0).contains(&start), "{}", found[0]);
    assert!((6.0..=7.5).contains(&end), "{}", found[0]);
}
