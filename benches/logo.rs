//! airscope's side of bench/logo.sh: the `logo` service's search of one 720p frame (grey
//! conversion, ORB features, LSH lookup, RANSAC on the candidates) against a gallery.
//!
//!   cargo bench --bench logo -- GALLERY_DIR FRAME...
//!
//! Prints, per frame, the median milliseconds of RUNS searches (after one warm-up) and the
//! references found at the default threshold, then the time to index the gallery.

mod common;

use std::time::Instant;

use airscope::analysers::logo::cv::Extractor;
use airscope::analysers::logo::matcher::{Catalogue, KnownLogo};
use airscope::analysers::logo::{Reference, FRAME_FEATURES};

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let args = common::args();
    let [gallery, frames @ ..] = &args[..] else {
        eprintln!("usage: logo GALLERY_DIR FRAME...");
        std::process::exit(2);
    };
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let mut files: Vec<_> = std::fs::read_dir(gallery)
        .expect("a gallery folder")
        .map(|e| e.expect("listable").path())
        .collect();
    files.sort();
    let logos: Vec<KnownLogo> = files
        .iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let image = image::open(f).expect("a readable reference");
            KnownLogo {
                id: name.clone(),
                name,
                references: vec![Reference::describe(&image).expect("a usable reference")],
            }
        })
        .collect();
    let start = Instant::now();
    let catalogue = Catalogue::new(logos);
    let indexing = start.elapsed().as_secs_f64() * 1000.0;
    let mut extractor = Extractor::new(FRAME_FEATURES);
    let mut search = |rgb: &image::RgbImage| {
        let grey = image::imageops::grayscale(rgb);
        let features = extractor.extract(&grey).expect("extracts");
        catalogue
            .find(&features, grey.dimensions())
            .into_iter()
            .filter(|f| f.confidence >= 0.5)
            .map(|f| catalogue.logo(f.logo).1.to_string())
            .collect::<Vec<_>>()
    };
    for file in frames {
        let rgb = image::open(file).expect("a readable frame").to_rgb8();
        let found = search(&rgb);
        let times: Vec<f64> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                search(&rgb);
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        let found = if found.is_empty() {
            "-".to_string()
        } else {
            found.join(",")
        };
        println!("{file} {:.1} {found}", median(times));
    }
    println!("index {indexing:.1}");
}
