//! airscope's side of bench/face.sh: dlib's HOG detector and the embedding network on 720p
//! frames, as the `face` service runs them on video (no upsampling, dlib's own threshold).
//!
//!   cargo bench --bench face -- MODELS_DIR FRAME...
//!
//! Prints, per frame, the median milliseconds of RUNS detections (after one warm-up), the
//! faces found, and the median milliseconds per face of embedding them all.

mod common;

use std::path::Path;
use std::time::Instant;

use airscope::analysers::face::{Dlib, Picture};

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let args = common::args();
    let [models, frames @ ..] = &args[..] else {
        eprintln!("usage: face MODELS_DIR FRAME...");
        std::process::exit(2);
    };
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let mut dlib = Dlib::load(Path::new(models)).expect("models load");
    for file in frames {
        let image = image::open(file).expect("a readable frame").to_rgb8();
        let picture = Picture::new(&image);
        let faces = dlib.detect(&picture, false, 0.0).expect("detects");
        let timed = |f: &mut dyn FnMut()| {
            median(
                (0..runs)
                    .map(|_| {
                        let start = Instant::now();
                        f();
                        start.elapsed().as_secs_f64() * 1000.0
                    })
                    .collect(),
            )
        };
        let detect = timed(&mut || {
            dlib.detect(&picture, false, 0.0).expect("detects");
        });
        let embed = if faces.is_empty() {
            0.0
        } else {
            dlib.embed(&picture, &faces);
            timed(&mut || {
                dlib.embed(&picture, &faces);
            }) / faces.len() as f64
        };
        println!("{file} {detect:.1} {} {embed:.1}", faces.len());
    }
}
