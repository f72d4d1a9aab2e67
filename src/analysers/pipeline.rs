//! Runs the analysers of one job on one decode: the decoder feeds every streaming analyser
//! through its own bounded queue (a slow analyser holds the decoder back instead of letting
//! memory grow), analysers run on their own threads and take a permit of the shared compute
//! pool for each unit of work, a failing analyser drops out alone, and the ones that work
//! from the others' results (`nld`) run last.

use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread;

use image::RgbImage;
use tokio_util::sync::CancellationToken;

use super::{AnalyseError, Input, Section};
use crate::jobs::services::AudioChannel;
use crate::media::decode::{self, AudioChunk, DecodeError, DecodePlan, Event, FramePlan, Sampler};
use crate::media::shots::Shot;
use crate::media::MediaType;

/// Frames (or audio chunks) an analyser may have queued before the decoder waits for it.
const QUEUE: usize = 4;

/// What an analyser reads.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// Sampled frames every `interval` seconds at `max_side` pixels (images: the picture).
    pub frames: Option<(f64, u32)>,
    pub audio: Option<AudioChannel>,
    /// Gives its section after the other analysers and sees theirs, and the shots.
    pub after_others: bool,
}

impl Needs {
    /// The audio of one channel (or the mix) and nothing else.
    pub fn audio(channel: AudioChannel) -> Needs {
        Needs {
            audio: Some(channel),
            ..Needs::default()
        }
    }
}

/// A frame as an analyser sees it: upright, at the size it asked for.
pub struct Frame {
    pub time: f64,
    pub shot_start: bool,
    pub image: Arc<RgbImage>,
}

/// The key of the shot boundaries among the findings the last analysers read.
pub const SHOTS: &str = "shots";

/// Sections produced so far, by output key.
pub type Findings = BTreeMap<&'static str, serde_json::Value>;

/// Every call runs holding one permit of the [`ComputePool`]; a call that can use more
/// threads asks for them with [`ComputePool::widen`].
pub trait Analyser: Send {
    fn needs(&self) -> Needs;
    fn frame(&mut self, _frame: &Frame) -> Result<(), AnalyseError> {
        Ok(())
    }
    fn audio(&mut self, _chunk: &AudioChunk) -> Result<(), AnalyseError> {
        Ok(())
    }
    /// The section, once the media is exhausted. `earlier` holds the shots (under [`SHOTS`])
    /// and the sections of the analysers that finished before (all others, for `after_others`).
    fn finish(self: Box<Self>, input: &Input, earlier: &Findings) -> Result<Section, AnalyseError>;
}

/// Bounds the CPU work of all analysers of all jobs in the process to the machine's cores.
pub struct ComputePool {
    free: Mutex<usize>,
    freed: Condvar,
    size: usize,
}

impl ComputePool {
    pub fn global() -> &'static ComputePool {
        static POOL: OnceLock<ComputePool> = OnceLock::new();
        POOL.get_or_init(|| {
            let cores = thread::available_parallelism().map_or(2, |n| n.get());
            ComputePool::new(cores)
        })
    }

    pub fn new(permits: usize) -> ComputePool {
        ComputePool {
            free: Mutex::new(permits.max(1)),
            freed: Condvar::new(),
            size: permits.max(1),
        }
    }

    /// Run `f` holding one permit.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let mut free = self.free.lock().expect("pool lock");
        while *free == 0 {
            free = self.freed.wait(free).expect("pool lock");
        }
        *free -= 1;
        drop(free);
        let _release = Release(self, 1);
        f()
    }

    /// For work that already holds a permit (every analyser call does): also take the
    /// permits that are free right now, up to `max` in all, and give `f` the count. It never
    /// waits, so a multi-threaded kernel uses idle cores without taking busy ones, and two
    /// callers cannot deadlock each holding one permit while waiting for another.
    pub fn widen<T>(&self, max: usize, f: impl FnOnce(usize) -> T) -> T {
        let mut free = self.free.lock().expect("pool lock");
        let extra = (*free).min(max.saturating_sub(1));
        *free -= extra;
        drop(free);
        let _release = Release(self, extra);
        f(1 + extra)
    }

    /// Permits in all (the machine's cores for the global pool).
    pub fn size(&self) -> usize {
        self.size
    }
}

/// Gives permits back when the work ends, even by panic.
struct Release<'a>(&'a ComputePool, usize);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        if self.1 > 0 {
            *self.0.free.lock().expect("pool lock") += self.1;
            self.0.freed.notify_all();
        }
    }
}

/// One analyser to run, named by its service.
pub struct Job {
    pub service: &'static str,
    pub analyser: Box<dyn Analyser>,
}

/// What the run produced for each service, and the shots when frames were decoded.
pub struct Outcome {
    pub results: Vec<(&'static str, Result<Section, AnalyseError>)>,
    pub shots: Option<Vec<Shot>>,
}

enum Msg {
    Frame(Arc<RgbImage>, f64, bool),
    Audio(Arc<AudioChunk>),
}

struct Lane {
    needs: Needs,
    tx: Option<SyncSender<Msg>>,
    sampler: Sampler,
}

/// Run `jobs` on `input`: one decode feeds them all, then each gives its section; the ones
/// that work from the others' results give theirs last, with the shots among the findings.
pub fn run(input: &Input, jobs: Vec<Job>) -> Result<Outcome, AnalyseError> {
    let pool = ComputePool::global();
    let mut results: Vec<(&'static str, Result<Section, AnalyseError>)> = Vec::new();
    let mut shots = None;

    let media = input.media.media_type;
    let mut lanes = Vec::new();
    let mut handles = Vec::new();
    for job in jobs {
        let needs = job.analyser.needs();
        let wants_stream = matches!(
            media,
            MediaType::Video | MediaType::Audio | MediaType::Image
        ) && (needs.frames.is_some() || needs.audio.is_some());
        let (tx, rx) = sync_channel::<Msg>(QUEUE);
        let last = needs.after_others;
        lanes.push(Lane {
            needs,
            tx: wants_stream.then_some(tx),
            sampler: Sampler::default(),
        });
        let service = job.service;
        handles.push((
            last,
            service,
            spawn_lane(job, rx, pool, input.cancel.clone()),
        ));
    }

    if lanes.iter().any(|l| l.tx.is_some()) {
        match media {
            MediaType::Image => feed_image(input, &mut lanes)?,
            _ => shots = feed_decode(input, &mut lanes)?,
        }
    }
    // Closing the queues tells every analyser the media is over.
    for lane in &mut lanes {
        lane.tx = None;
    }
    let mut finished = Vec::new();
    for (last, service, handle) in handles {
        let r = handle.join().unwrap_or_else(|_| {
            Err((service, AnalyseError::Failed("the analyser crashed".into())))
        });
        finished.push((last, r));
    }
    if input.cancel.is_cancelled() {
        return Err(AnalyseError::Cancelled);
    }
    let mut findings = Findings::new();
    if let Some(shots) = &shots {
        findings.insert(SHOTS, serde_json::json!(shots));
    }
    // A stable sort: the others in the order they came, then the ones that read them.
    finished.sort_by_key(|(last, _)| *last);
    for (_, item) in finished {
        if input.cancel.is_cancelled() {
            return Err(AnalyseError::Cancelled);
        }
        match item {
            Ok((service, analyser)) => {
                let r = pool.run(|| analyser.finish(input, &findings));
                if let Ok((key, value)) = &r {
                    findings.insert(key, value.clone());
                }
                results.push((service, r));
            }
            Err((service, e)) => results.push((service, Err(e))),
        }
    }
    Ok(Outcome { results, shots })
}

type LaneResult = Result<(&'static str, Box<dyn Analyser>), (&'static str, AnalyseError)>;

fn spawn_lane(
    job: Job,
    rx: Receiver<Msg>,
    pool: &'static ComputePool,
    cancel: CancellationToken,
) -> thread::JoinHandle<LaneResult> {
    thread::spawn(move || {
        let Job {
            service,
            mut analyser,
        } = job;
        for msg in rx {
            if cancel.is_cancelled() {
                return Err((service, AnalyseError::Cancelled));
            }
            let r = pool.run(|| match &msg {
                Msg::Frame(image, time, shot_start) => analyser.frame(&Frame {
                    time: *time,
                    shot_start: *shot_start,
                    image: image.clone(),
                }),
                Msg::Audio(chunk) => analyser.audio(chunk),
            });
            // Returning drops the queue: the decoder stops feeding this analyser only.
            r.map_err(|e| (service, e))?;
        }
        Ok((service, analyser))
    })
}

/// Send to a lane; a lane whose analyser stopped is closed quietly (its error is reported by
/// its thread).
fn send(lane: &mut Lane, msg: Msg) {
    if let Some(tx) = &lane.tx {
        if tx.send(msg).is_err() {
            lane.tx = None;
        }
    }
}

fn feed_decode(input: &Input, lanes: &mut [Lane]) -> Result<Option<Vec<Shot>>, AnalyseError> {
    let mut sides: Vec<u32> = lanes
        .iter()
        .filter_map(|l| l.needs.frames.map(|f| f.1))
        .collect();
    sides.sort_unstable();
    sides.dedup();
    let interval = lanes
        .iter()
        .filter_map(|l| l.needs.frames.map(|f| f.0))
        .fold(f64::INFINITY, f64::min);
    let mut audio: Vec<AudioChannel> = Vec::new();
    for ch in lanes.iter().filter_map(|l| l.needs.audio) {
        if !audio.contains(&ch) {
            audio.push(ch);
        }
    }
    let video = input.media.media_type == MediaType::Video && !sides.is_empty();
    let plan = DecodePlan {
        frames: video.then(|| FramePlan {
            interval,
            max_sides: sides.clone(),
        }),
        shots: video,
        audio,
        threads: 1,
    };
    let rotation = input.media.rotation.unwrap_or(0);
    let duration = input.media.duration.unwrap_or(0.0);
    let mut sink = |event: Event| {
        match event {
            Event::Frame(f) => {
                input.report_progress(f.time, duration);
                let images: Vec<Arc<RgbImage>> = f.images.into_iter().map(Arc::new).collect();
                for lane in lanes.iter_mut() {
                    let Some((every, side)) = lane.needs.frames else {
                        continue;
                    };
                    if !lane.sampler.take(f.time, every, f.shot_start) {
                        continue;
                    }
                    let at = sides.iter().position(|s| *s == side).expect("size planned");
                    send(lane, Msg::Frame(images[at].clone(), f.time, f.shot_start));
                }
            }
            Event::Audio(chunk) => {
                input.report_progress(chunk.start, duration);
                let chunk = Arc::new(chunk);
                for lane in lanes.iter_mut() {
                    if lane.needs.audio == Some(chunk.channel) {
                        send(lane, Msg::Audio(chunk.clone()));
                    }
                }
            }
        }
        if lanes.iter().all(|l| l.tx.is_none()) {
            return Err(DecodeError::Sink("every analyser stopped".into()));
        }
        Ok(())
    };
    match decode::decode(&input.path, &plan, rotation, &input.cancel, &mut sink) {
        Ok(report) => Ok(report.shots),
        Err(DecodeError::Cancelled) => Err(AnalyseError::Cancelled),
        // Every analyser failed: their own errors say why.
        Err(DecodeError::Sink(_)) => Ok(None),
        Err(DecodeError::Media(e)) => Err(AnalyseError::Failed(e.to_string())),
    }
}

fn feed_image(input: &Input, lanes: &mut [Lane]) -> Result<(), AnalyseError> {
    let picture =
        crate::media::image::load(&input.path).map_err(|e| AnalyseError::Failed(e.to_string()))?;
    for lane in lanes.iter_mut() {
        if let Some((_, side)) = lane.needs.frames {
            let image = Arc::new(crate::media::image::fit_rgb(&picture, side));
            send(lane, Msg::Frame(image, 0.0, true));
        }
    }
    Ok(())
}
