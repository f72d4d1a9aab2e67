//! `audiotag` on real recordings (scripts/fetch-audio-fixtures.sh; truth in
//! tests/fixtures/audio/README.md), run the way users run it: `airscope analyze` on a file, and
//! jobs through the API for config and the media a job can meet.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::{json, Value};

/// A recording fetched by scripts/fetch-audio-fixtures.sh (run by scripts/test.sh).
fn recording(name: &str) -> PathBuf {
    let dir = std::env::var_os("TEST_AUDIO_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fixtures/audio"));
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-audio-fixtures.sh",
        path.display()
    );
    path
}

/// `audio_classifications` of `airscope analyze --services audiotag FILE`, checked against
/// the schema.
fn analyze(file: &Path) -> Vec<Value> {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(BIN)
        .args(["analyze", "--services", "audiotag", "--out"])
        .arg(out.path())
        .arg(file)
        .env("AIRSCOPE_MODELS__DIR", models_dir())
        .env("AIRSCOPE_DATA_DIR", out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a metadata file");
    let doc: Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    airscope::output::validate(&doc).unwrap();
    let service = &doc["message_payload"]["services"][0];
    assert_eq!(service["status"], "completed", "{service}");
    doc["message_payload"]["audio_classifications"]
        .as_array()
        .expect("the section")
        .clone()
}

/// Labels ranked by how much of the clip they cover, weighted by confidence.
fn ranked(entries: &[Value]) -> Vec<String> {
    let mut weight: Vec<(String, f64)> = Vec::new();
    for e in entries {
        let w = (e["end"].as_f64().unwrap() - e["start"].as_f64().unwrap())
            * e["confidence"].as_f64().unwrap();
        let label = e["label"].as_str().unwrap();
        match weight.iter_mut().find(|(l, _)| l == label) {
            Some((_, total)) => *total += w,
            None => weight.push((label.to_string(), w)),
        }
    }
    weight.sort_by(|a, b| b.1.total_cmp(&a.1));
    weight.into_iter().map(|(l, _)| l).collect()
}

fn ffmpeg_to(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    ffmpeg(args, &out);
    out
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn silence_and_a_10_ms_file_give_no_sound_but_silence() {
    let dir = tempfile::tempdir().unwrap();
    let silence = ffmpeg_to(
        dir.path(),
        "silence.m4a",
        &[
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=44100:cl=stereo",
            "-t",
            "60",
        ],
    );
    let spans = |entries: Vec<Value>| -> Vec<(String, f64, f64)> {
        entries
            .iter()
            .map(|e| {
                let t = |k: &str| e[k].as_f64().unwrap();
                (
                    e["label"].as_str().unwrap().to_string(),
                    t("start"),
                    t("end"),
                )
            })
            .collect()
    };
    // One segment, the whole file, and nothing else: no sound is invented.
    assert_eq!(spans(analyze(&silence)), [("Silence".into(), 0.0, 60.0)]);
    let blip = ffmpeg_to(
        dir.path(),
        "blip.wav",
        &[
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=16000:cl=mono",
            "-t",
            "0.01",
        ],
    );
    // Shorter than one patch: scored once, padded with silence, and ends where the file ends.
    assert_eq!(spans(analyze(&blip)), [("Silence".into(), 0.0, 0.01)]);
}

/// Uploads `file` and runs an `audiotag` job with `config`; returns the metadata file.
async fn job(s: &Server, keys: &Keys, file: &Path, config: Value) -> Value {
    let key = file.file_name().unwrap().to_str().unwrap();
    s.upload(keys, "media", key, file);
    let mut body = job_body(key, "media", key, "results");
    body["Services"] = json!({"audiotag": {"config": config}});
    let api = s.client();
    let id = api.submit(keys, &body).await;
    let job = api.wait_for(keys, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "completed", "{job}");
    s.metadata(keys, &id).await
}

fn service(doc: &Value) -> &Value {
    &doc["message_payload"]["services"][0]
}

#[tokio::test]
async fn a_video_without_sound_is_skipped_and_a_missing_channel_fails_alone() {
    let s = start("");
    let alice = s.create_key("alice", false);
    let _ = s.aws(&alice, &["s3", "mb", "s3://results"]);
    let dir = s.dir.path();
    let mute = ffmpeg_to(
        dir,
        "mute.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25:duration=2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let doc = job(&s, &alice, &mute, json!({})).await;
    assert_eq!(service(&doc)["status"], "skipped");
    assert_eq!(service(&doc)["error"], "the media has no audio stream");
    assert!(doc["message_payload"]["audio_classifications"].is_null());

    let stereo = ffmpeg_to(
        dir,
        "stereo.m4a",
        &["-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "2"],
    );
    let doc = job(&s, &alice, &stereo, json!({"audio_channel": 2})).await;
    assert_eq!(service(&doc)["status"], "failed");
    assert_eq!(
        service(&doc)["error"],
        "audio_channel 2 does not exist: the audio has 2 channel(s), numbered from 0"
    );
    assert_eq!(doc["message"], "Processing completed with errors");
}
