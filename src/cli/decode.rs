//! `airscope decode FILE`: run the decode pipeline the way a job does and report, as JSON,
//! what came out and what it cost. For checking media and for the benchmarks.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::jobs::services::AudioChannel;
use crate::media::decode::{decode, DecodePlan, Event, FramePlan};

#[derive(clap::Args)]
pub struct Args {
    file: PathBuf,
    /// Sample a frame every this many seconds (no frames without it).
    #[arg(long)]
    frame_interval: Option<f64>,
    /// Longest side of a sampled frame size (repeat for several sizes; default 640).
    #[arg(long = "size")]
    sizes: Vec<u32>,
    /// Detect shot cuts.
    #[arg(long)]
    shots: bool,
    /// Extract 16 kHz audio: `mix` or a 0-based channel index.
    #[arg(long)]
    audio: Option<String>,
    /// Decoder threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let audio = match args.audio.as_deref() {
        None => vec![],
        Some("mix") => vec![AudioChannel::default()],
        Some(n) => vec![AudioChannel::Index(n.parse().map_err(|_| {
            anyhow::anyhow!("--audio takes `mix` or a channel index")
        })?)],
    };
    let plan = DecodePlan {
        frames: args.frame_interval.map(|interval| FramePlan {
            interval,
            max_sides: if args.sizes.is_empty() {
                vec![640]
            } else {
                args.sizes.clone()
            },
        }),
        shots: args.shots,
        audio,
        threads: args.threads,
    };
    let rotation = if plan.frames.is_some() {
        crate::media::probe::probe_av(&args.file, "video/unknown", 1)?
            .rotation
            .unwrap_or(0)
    } else {
        0
    };
    let started = Instant::now();
    let mut frames = Vec::new();
    let (mut sum_sq, mut n) = (0f64, 0u64);
    let mut sink = |e: Event| {
        match e {
            Event::Frame(f) => frames.push(json!({
                "time": f.time,
                "shot_start": f.shot_start,
                "sizes": f.images.iter().map(|i| [i.width(), i.height()]).collect::<Vec<_>>(),
            })),
            Event::Audio(a) => {
                sum_sq += a
                    .samples
                    .iter()
                    .map(|s| f64::from(*s) * f64::from(*s))
                    .sum::<f64>();
                n += a.samples.len() as u64;
            }
        }
        Ok(())
    };
    let report = decode(
        &args.file,
        &plan,
        rotation,
        &CancellationToken::new(),
        &mut sink,
    )?;
    let out = json!({
        "elapsed_seconds": started.elapsed().as_secs_f64(),
        "frames_decoded": report.frames_decoded,
        "frames_sampled": report.frames_sampled,
        "frames": frames,
        "shots": report.shots,
        "audio_samples": report.audio_samples,
        "audio_rms": if n > 0 { (sum_sq / n as f64).sqrt() } else { 0.0 },
        "end_time": report.end_time,
        "peak_rss_kb": peak_rss_kb(),
    });
    println!("{out}");
    Ok(())
}

/// High-water mark of this process's resident memory.
pub fn peak_rss_kb() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
