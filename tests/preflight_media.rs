//! Preflight on real media made by FFmpeg: the type comes from the bytes, container facts go
//! into `technical_metadata`, and services that do not apply are skipped with the reason.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

async fn run(s: &Server, keys: &Keys, key: &str, file: &Path) -> Value {
    s.complete_job(keys, key, file, &job_body(key, "media", key, "results"))
        .await
}

#[tokio::test]
async fn media_is_probed_and_inapplicable_services_are_skipped() {
    let (s, alice) = start_with_results();
    let dir = s.dir.path();

    // 2 s of 320x240 H.264 at 25 fps with stereo AAC, then remuxed with a display matrix
    // (FFmpeg 5.1 writes one for `rotate` only when copying); named .pdf so the name lies.
    let plain = dir.join("plain.mp4");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2:sample_rate=48000",
            "-ac",
            "2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ],
        &plain,
    );
    let video = dir.join("clip.mp4");
    let plain_arg = plain.to_str().unwrap();
    ffmpeg(
        &[
            "-i",
            plain_arg,
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
        ],
        &video,
    );
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args(["-show_entries", "side_data=rotation", "-of", "csv=p=0"])
        .arg(&video)
        .output()
        .unwrap();
    // ffprobe reports the counter-clockwise angle; airscope reports the clockwise one.
    let ccw: i32 = String::from_utf8_lossy(&probe.stdout)
        .trim()
        .parse()
        .unwrap();
    let doc = run(&s, &alice, "lies/clip.pdf", &video).await;
    let tm = &doc["message_payload"]["technical_metadata"];
    assert_eq!(tm["media_type"], "video");
    assert_eq!(tm["video_codec"], "h264");
    assert_eq!(tm["audio_codec"], "aac");
    assert_eq!(
        (tm["width"].as_u64(), tm["height"].as_u64()),
        (Some(320), Some(240))
    );
    assert_eq!(tm["frame_rate"], 25.0);
    assert_eq!(tm["audio_channels"], 2);
    assert_eq!(tm["audio_sample_rate"], 48000);
    assert_eq!(tm["rotation"], (360 - ccw) % 360);
    assert_ne!(tm["rotation"], 0);
    let d = tm["duration"].as_f64().unwrap();
    assert!((1.9..=2.2).contains(&d), "{d}");
    let jm = &doc["message_payload"]["job_metadata"];
    assert_eq!(jm["airtime_duration"], tm["duration"]);
    let svc = &doc["message_payload"]["services"][0];
    assert_eq!(svc["service_name"], "air_pdf");
    assert_eq!(svc["status"], "skipped");
    assert_eq!(svc["error"], "not applicable to video");
    assert!(doc["message_payload"].get("pdf").is_none());

    // Audio only, in an MP4 container: audio, not video.
    let audio = dir.join("voice.m4a");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300:duration=3",
            "-c:a",
            "aac",
        ],
        &audio,
    );
    let doc = run(&s, &alice, "voice.m4a", &audio).await;
    let tm = &doc["message_payload"]["technical_metadata"];
    assert_eq!(tm["media_type"], "audio");
    assert!(tm.get("video_codec").is_none() && tm.get("width").is_none());
    assert_eq!(tm["audio_channels"], 1);

    // An image: its size from the header, no duration.
    let image = dir.join("frame.png");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x360",
            "-frames:v",
            "1",
        ],
        &image,
    );
    let doc = run(&s, &alice, "frame.png", &image).await;
    let tm = &doc["message_payload"]["technical_metadata"];
    assert_eq!(tm["media_type"], "image");
    assert_eq!(
        (tm["width"].as_u64(), tm["height"].as_u64()),
        (Some(640), Some(360))
    );
    assert_eq!(
        doc["message_payload"]["job_metadata"]["airtime_duration"],
        0.0
    );
    assert_eq!(
        doc["message_payload"]["services"][0]["error"],
        "not applicable to image"
    );
}

/// Uploads `file` as `key`, runs a job on it and checks that it fails with `reason`.
async fn fails_preflight(s: &Server, keys: &Keys, key: &str, file: &Path, reason: &str) {
    s.upload(keys, "media", key, file);
    let api = s.client();
    let id = api
        .submit(keys, &job_body(key, "media", key, "results"))
        .await;
    let job = api.wait_for(keys, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "failed");
    assert!(
        job["Error"].as_str().unwrap().contains(reason),
        "{job} lacks `{reason}`"
    );
}

#[tokio::test]
async fn a_large_file_of_an_unsupported_type_is_refused() {
    // Over 4 MiB the type is read from the first bytes, before the download; small files
    // take the other path (tests/jobs_lifecycle.rs).
    let (s, alice) = start_with_results();
    let path = s.dir.path().join("archive.mp4");
    let mut bytes = b"PK\x03\x04\x14\x00".to_vec();
    bytes.resize(5 << 20, b'z');
    std::fs::write(&path, &bytes).unwrap();
    let reason = "unsupported media type: application/zip";
    fails_preflight(&s, &alice, "archive.mp4", &path, reason).await;
}

#[tokio::test]
async fn a_truncated_video_fails_preflight() {
    let (s, alice) = start_with_results();
    let video = mute_video(s.dir.path());
    let bytes = std::fs::read(&video).unwrap();
    // Keep the header bytes (so it still sniffs as MP4) but cut the rest.
    std::fs::write(&video, &bytes[..64.min(bytes.len())]).unwrap();
    fails_preflight(&s, &alice, "cut.mp4", &video, "corrupt or unreadable").await;
}

#[test]
fn pdf_pages_render_at_the_requested_dpi() {
    let models = models_dir();
    let pdfium = airscope::media::pdf::pdfium(&models).unwrap();
    let doc = airscope::media::pdf::open(pdfium, &fixture("report.pdf")).unwrap();
    let page = airscope::media::pdf::render_page(&doc, 0, 72.0).unwrap();
    // A4 is 595.28 x 841.89 points: one pixel per point at 72 DPI.
    assert_eq!((page.width(), page.height()), (595, 842));
    let hi = airscope::media::pdf::render_page(&doc, 0, 144.0).unwrap();
    assert_eq!((hi.width(), hi.height()), (1191, 1684));
    // The title line (72 pt from the left, 62 pt from the top) is dark ink on white paper.
    let dark = |img: &image::RgbImage, y0: u32, y1: u32| {
        (y0..y1)
            .flat_map(|y| (60..400).map(move |x| (x, y)))
            .filter(|(x, y)| img.get_pixel(*x, *y).0.iter().all(|c| *c < 100))
            .count()
    };
    assert!(dark(&page, 50, 66) > 100, "text pixels where the title is");
    assert_eq!(dark(&page, 400, 500), 0, "blank paper below the text");
}
