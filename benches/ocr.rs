//! airscope's side of bench/ocr.sh: the OCR reader on pictures, and the video tracker against
//! reading every sampled frame, on one thread (ONNX Runtime sessions run single-threaded).
//!
//!   cargo bench --bench ocr -- MODELS_DIR still IMAGE...    each picture as a photo or page
//!   cargo bench --bench ocr -- MODELS_DIR frame IMAGE...    each picture as a video frame
//!   cargo bench --bench ocr -- MODELS_DIR video FRAME...    the frames of one video, in order,
//!                                                           one second apart
//!
//! `still` and `frame` print, per picture, the median milliseconds of RUNS reads (after one
//! warm-up) and the lines read; `video` prints the seconds for the tracker and for reading
//! every frame, and what the tracker did.

mod common;

use std::path::Path;
use std::time::Instant;

use airscope::analysers::ocr::track::Tracker;
use airscope::analysers::ocr::{Reader, Scale, VIDEO_DETECT_SIDE};

fn load(path: &str) -> image::RgbImage {
    image::open(path).expect("a readable picture").to_rgb8()
}

fn main() {
    let args = common::args();
    let [models, mode, files @ ..] = &args[..] else {
        eprintln!("usage: ocr MODELS_DIR still|frame|video IMAGE...");
        std::process::exit(2);
    };
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let mut reader = Reader::load(Path::new(models)).expect("models load");
    match mode.as_str() {
        "still" | "frame" => {
            let scale = if mode == "still" {
                Scale::Still
            } else {
                Scale::LongSide(VIDEO_DETECT_SIDE)
            };
            for file in files {
                let image = load(file);
                let lines = reader.lines(&image, scale).expect("reads").len();
                let mut times: Vec<f64> = (0..runs)
                    .map(|_| {
                        let start = Instant::now();
                        reader.lines(&image, scale).expect("reads");
                        start.elapsed().as_secs_f64() * 1000.0
                    })
                    .collect();
                times.sort_by(f64::total_cmp);
                println!("{file} {:.1} {lines}", times[runs / 2]);
            }
        }
        "video" => {
            let frames: Vec<image::RgbImage> = files.iter().map(|f| load(f)).collect();
            let start = Instant::now();
            let mut tracker = Tracker::new(Scale::LongSide(VIDEO_DETECT_SIDE), 0.5);
            for (i, f) in frames.iter().enumerate() {
                tracker
                    .frame(&mut reader, f, i as f64, i == 0)
                    .expect("tracks");
            }
            let work = tracker.work;
            let found = tracker.finish().len();
            let tracked = start.elapsed().as_secs_f64();
            let start = Instant::now();
            let mut every_lines = 0;
            for f in &frames {
                every_lines += reader
                    .lines(f, Scale::LongSide(VIDEO_DETECT_SIDE))
                    .expect("reads")
                    .len();
            }
            let every = start.elapsed().as_secs_f64();
            println!(
                "{tracked:.2} {every:.2} {found} {every_lines} {} {} {} {}",
                work.frames, work.still_frames, work.lines_read, work.lines_reused
            );
        }
        other => panic!("unknown mode {other}"),
    }
}
