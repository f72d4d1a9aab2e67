//! The `pdf` analysis alone, in a loop on one thread: how many documents a second one core
//! gets through with no service around it (no store, no storage, no network). `bench/fleet.sh`
//! runs one copy pinned to core 0, then two at once pinned to cores 0 and 1: the ratio is the
//! most that two cores of this machine give for this work, the ceiling for the fleet's 1 vs 2
//! worker comparison.
//!
//!   cargo bench --bench pdf_loop -- MODELS_DIR PDF SECONDS
//!
//! Prints the documents analysed per second (probe, then every service a `pdf` job runs).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use airscope::analysers::{self, Input};
use airscope::jobs::services::parse_services;

fn main() {
    let args = common::args();
    let [models, pdf, seconds] = &args[..] else {
        eprintln!("usage: pdf_loop MODELS_DIR PDF SECONDS");
        std::process::exit(2);
    };
    let (models, pdf) = (Path::new(models), Path::new(pdf));
    let size = std::fs::metadata(pdf).expect("a readable PDF").len();
    let configs = parse_services(&serde_json::json!({"pdf": ""})).expect("valid services");
    let window = Duration::from_secs_f64(seconds.parse().expect("SECONDS is a number"));
    let start = Instant::now();
    let mut done = 0u32;
    while start.elapsed() < window {
        let (media, pdf_info) = airscope::media::pdf::probe(models, pdf, size).expect("probes");
        let input = Input {
            path: pdf.to_path_buf(),
            media,
            pdf_info: Some(pdf_info),
            models_dir: models.to_path_buf(),
            faces: Ok(Vec::new()),
            logos: Ok(Vec::new()),
            cancel: Default::default(),
            progress: Default::default(),
        };
        analysers::run_all(&input, &configs).expect("analyses");
        done += 1;
    }
    println!("{:.1}", f64::from(done) / start.elapsed().as_secs_f64());
}
