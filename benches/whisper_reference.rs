//! The reference for bench/s2t.sh: whisper-rs's minimal use, the way its own example runs a
//! model. It loads the ggml model, reads 16 kHz mono f32 PCM (decoded beforehand by the
//! FFmpeg CLI), and runs one `full` over all of it with the decoding settings airscope uses
//! (greedy, token timestamps, language detected), on the given threads. It prints the load
//! and transcription times in seconds and the transcript's word count.
//!
//!   cargo bench --bench whisper_reference -- MODEL PCM_F32LE THREADS

mod common;

use std::time::Instant;

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

fn main() {
    let args = common::args();
    let [model, pcm, threads] = &args[..] else {
        eprintln!("usage: whisper_reference MODEL PCM_F32LE THREADS");
        std::process::exit(2);
    };
    let threads: i32 = threads.parse().expect("THREADS is a number");
    let bytes = std::fs::read(pcm).expect("readable PCM");
    let samples: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    whisper_rs::install_logging_hooks();
    let start = Instant::now();
    let ctx = WhisperContext::new_with_params(model, WhisperContextParameters::default())
        .expect("model loads");
    let mut state = ctx.create_state().expect("state");
    let load = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    params.set_n_threads(threads);
    params.set_language(Some("auto"));
    params.set_token_timestamps(true);
    params.set_suppress_nst(true);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_special(false);
    params.set_print_timestamps(false);
    state.full(params, &samples).expect("transcribes");
    let run = start.elapsed().as_secs_f64();
    let words: usize = state
        .as_iter()
        .map(|s| s.to_str_lossy().map_or(0, |t| t.split_whitespace().count()))
        .sum();
    println!("{load:.3} {run:.3} {words}");
}
