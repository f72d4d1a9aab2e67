//! Decode once: a single pass over the container gives the sampled frames (scaled once per
//! requested size), the shot cuts (from every decoded frame) and 16 kHz mono f32 audio (the
//! downmix or a chosen channel), delivered in order to a sink. Runs on the calling (blocking) thread.

use std::path::Path;

use ffmpeg::format::{sample::Type as SampleType, Pixel, Sample};
use ffmpeg::software::{resampling, scaling};
use ffmpeg::{frame, ChannelLayout};
use ffmpeg_next as ffmpeg;
use image::RgbImage;
use tokio_util::sync::CancellationToken;

use super::shots::{round3, Features, Plane, Shot, ShotDetector};
use super::MediaError;
use crate::jobs::services::AudioChannel;

/// Sample rate of the audio stream every analyser reads.
pub const AUDIO_RATE: u32 = 16_000;
/// Samples per audio chunk handed to the sink (one second).
const CHUNK: usize = AUDIO_RATE as usize;

/// Which frames to keep, and at which sizes.
#[derive(Debug, Clone)]
pub struct FramePlan {
    /// Seconds between sampled frames.
    pub interval: f64,
    /// Longest side of each requested size in pixels (frames are never upscaled).
    pub max_sides: Vec<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct DecodePlan {
    pub frames: Option<FramePlan>,
    /// Detect shot cuts (and sample the first frame of every shot).
    pub shots: bool,
    /// Channel selections wanted (each becomes its own 16 kHz mono stream from one decode).
    pub audio: Vec<AudioChannel>,
    /// Decoder threads (1 suits a shared pool; the benchmark reference uses 1 too).
    pub threads: usize,
}

/// Picks frames: the first at or after each multiple of the interval, and every shot start.
#[derive(Debug, Default, Clone)]
pub struct Sampler {
    next: f64,
}

impl Sampler {
    pub fn take(&mut self, time: f64, interval: f64, shot_start: bool) -> bool {
        let due = time + 1e-6 >= self.next;
        if due {
            self.next = ((time / interval + 1e-6).floor() + 1.0) * interval;
        }
        due || shot_start
    }
}

/// A sampled frame, upright (rotation applied), once per requested size.
pub struct SampledFrame {
    pub time: f64,
    pub shot_start: bool,
    pub images: Vec<RgbImage>,
}

/// Consecutive 16 kHz mono samples of one channel selection, starting at `start` seconds.
pub struct AudioChunk {
    pub channel: AudioChannel,
    pub start: f64,
    pub samples: Vec<f32>,
}

pub enum Event {
    Frame(SampledFrame),
    Audio(AudioChunk),
}

#[derive(Debug, Default)]
pub struct DecodeReport {
    pub shots: Option<Vec<Shot>>,
    pub frames_decoded: u64,
    pub frames_sampled: u64,
    pub audio_samples: u64,
    /// Time of the end of the last frame or sample seen.
    pub end_time: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The sink refused an event (its consumer failed or went away).
    #[error("{0}")]
    Sink(String),
}

fn corrupt(e: ffmpeg::Error) -> DecodeError {
    DecodeError::Media(super::probe::ffmpeg_error("media file", e))
}

struct VideoState {
    index: usize,
    decoder: ffmpeg::decoder::Video,
    time_base: f64,
    start_pts: i64,
    frame_rate: f64,
    rotation: i32,
    detector: Option<ShotDetector>,
    gray: Option<(scaling::Context, frame::Video)>,
    scalers: Vec<Option<scaling::Context>>,
    sampler: Sampler,
    decoded: frame::Video,
}

struct AudioState {
    index: usize,
    decoder: ffmpeg::decoder::Audio,
    time_base: f64,
    start: Option<f64>,
    /// One resampled stream per distinct channel selection.
    outputs: Vec<AudioOutput>,
    decoded: frame::Audio,
}

/// Decode `path` once according to `plan`, feeding `sink` in presentation order per stream.
pub fn decode(
    path: &Path,
    plan: &DecodePlan,
    rotation: i32,
    cancel: &CancellationToken,
    sink: &mut dyn FnMut(Event) -> Result<(), DecodeError>,
) -> Result<DecodeReport, DecodeError> {
    super::probe::init_ffmpeg();
    let mut ictx = ffmpeg::format::input(&path).map_err(corrupt)?;
    let wants_video = plan.frames.is_some() || plan.shots;
    let threads = plan.threads.max(1);
    let mut video = if wants_video {
        open_video(&ictx, plan, rotation, threads)?
    } else {
        None
    };
    let mut audio = if plan.audio.is_empty() {
        None
    } else {
        open_audio(&ictx, &plan.audio, threads)?
    };
    discard_unused(
        &mut ictx,
        video.as_ref().map(|v| v.index),
        audio.as_ref().map(|a| a.index),
    );
    let mut report = DecodeReport::default();
    loop {
        if cancel.is_cancelled() {
            return Err(DecodeError::Cancelled);
        }
        // A fresh packet each time: av_read_frame does not release what a reused one holds.
        let mut packet = ffmpeg::Packet::empty();
        match packet.read(&mut ictx) {
            Ok(()) => {}
            Err(ffmpeg::Error::Eof) => break,
            // A damaged packet: the demuxer resyncs past it.
            Err(ffmpeg::Error::InvalidData) => continue,
            Err(e) => return Err(corrupt(e)),
        }
        let stream = packet.stream();
        if let Some(v) = video.as_mut().filter(|v| v.index == stream) {
            // A packet the decoder rejects is skipped, as players do; a file with no
            // decodable frame at all fails below.
            if v.decoder.send_packet(&packet).is_ok() {
                drain_video(v, plan, &mut report, sink)?;
            }
        } else if let Some(a) = audio.as_mut().filter(|a| a.index == stream) {
            if a.decoder.send_packet(&packet).is_ok() {
                drain_audio(a, &mut report, sink)?;
            }
        }
    }
    if let Some(v) = video.as_mut() {
        let _ = v.decoder.send_eof();
        drain_video(v, plan, &mut report, sink)?;
    }
    if let Some(a) = audio.as_mut() {
        let _ = a.decoder.send_eof();
        drain_audio(a, &mut report, sink)?;
        flush_audio(a, &mut report, sink)?;
    }
    if let Some(v) = video {
        if report.frames_decoded == 0 {
            return Err(DecodeError::Media(MediaError::Corrupt {
                kind: "video",
                reason: "no frame could be decoded".into(),
            }));
        }
        report.shots = v.detector.map(|d| d.finish(round3(report.end_time)));
    }
    Ok(report)
}

/// Tell the demuxer to skip the streams nobody reads, so their data is not even read from
/// disk (as `ffmpeg -vn` does).
fn discard_unused(
    ictx: &mut ffmpeg::format::context::Input,
    video: Option<usize>,
    audio: Option<usize>,
) {
    // SAFETY: `discard` is a plain field of streams the open context owns; it is set before
    // the first read, as the FFmpeg API expects.
    unsafe {
        let ctx = ictx.as_mut_ptr();
        for i in 0..(*ctx).nb_streams as usize {
            if Some(i) != video && Some(i) != audio {
                (**(*ctx).streams.add(i)).discard = ffmpeg::ffi::AVDiscard::AVDISCARD_ALL;
            }
        }
    }
}

/// A decoder for `stream` with `threads` frame threads, refusing codecs FFmpeg cannot decode.
fn decoder_for(
    stream: &ffmpeg::format::stream::Stream,
    threads: usize,
) -> Result<ffmpeg::decoder::Decoder, DecodeError> {
    super::probe::check_decoder(stream)?;
    let mut ctx =
        ffmpeg::codec::context::Context::from_parameters(stream.parameters()).map_err(corrupt)?;
    ctx.set_threading(ffmpeg::codec::threading::Config {
        kind: ffmpeg::codec::threading::Type::Frame,
        count: threads,
        ..Default::default()
    });
    Ok(ctx.decoder())
}

fn open_video(
    ictx: &ffmpeg::format::context::Input,
    plan: &DecodePlan,
    rotation: i32,
    threads: usize,
) -> Result<Option<VideoState>, DecodeError> {
    let attached = ffmpeg::format::stream::Disposition::ATTACHED_PIC;
    let Some(stream) = ictx
        .streams()
        .filter(|s| s.parameters().medium() == ffmpeg::media::Type::Video)
        .find(|s| !s.disposition().contains(attached))
    else {
        return Ok(None);
    };
    let decoder = decoder_for(&stream, threads)?.video().map_err(corrupt)?;
    let tb = stream.time_base();
    let fr = stream.avg_frame_rate();
    let sizes = plan.frames.as_ref().map_or(0, |f| f.max_sides.len());
    Ok(Some(VideoState {
        index: stream.index(),
        decoder,
        time_base: f64::from(tb),
        start_pts: if stream.start_time() == ffmpeg::ffi::AV_NOPTS_VALUE {
            0
        } else {
            stream.start_time()
        },
        frame_rate: if fr.denominator() != 0 && fr.numerator() > 0 {
            f64::from(fr)
        } else {
            25.0
        },
        rotation,
        detector: plan.shots.then(ShotDetector::default),
        gray: None,
        scalers: (0..sizes).map(|_| None).collect(),
        sampler: Sampler::default(),
        decoded: frame::Video::empty(),
    }))
}

fn drain_video(
    v: &mut VideoState,
    plan: &DecodePlan,
    report: &mut DecodeReport,
    sink: &mut dyn FnMut(Event) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    while v.decoder.receive_frame(&mut v.decoded).is_ok() {
        let pts = v.decoded.timestamp().unwrap_or(v.start_pts);
        let time = ((pts - v.start_pts) as f64 * v.time_base).max(0.0);
        report.frames_decoded += 1;
        report.end_time = report.end_time.max(time + 1.0 / v.frame_rate);
        let mut shot_start = false;
        if v.detector.is_some() {
            let features = features_of(&v.decoded, &mut v.gray)?;
            if let Some(d) = v.detector.as_mut() {
                shot_start = d.push(time, features);
            }
        }
        let Some(fp) = &plan.frames else { continue };
        if !v.sampler.take(time, fp.interval, shot_start) {
            continue;
        }
        let mut images = Vec::with_capacity(fp.max_sides.len());
        for (i, side) in fp.max_sides.iter().enumerate() {
            images.push(to_rgb(&v.decoded, *side, v.rotation, &mut v.scalers[i])?);
        }
        report.frames_sampled += 1;
        sink(Event::Frame(SampledFrame {
            time: round3(time),
            shot_start,
            images,
        }))?;
    }
    Ok(())
}

fn plane(f: &frame::Video, i: usize) -> Plane<'_> {
    Plane {
        data: f.data(i),
        stride: f.stride(i),
        width: f.plane_width(i) as usize,
        height: f.plane_height(i) as usize,
    }
}

/// Shot features straight from 8-bit planar YUV; other formats go through a small gray+chroma
/// conversion first.
fn features_of(
    f: &frame::Video,
    gray: &mut Option<(scaling::Context, frame::Video)>,
) -> Result<Features, DecodeError> {
    let planar_8bit = matches!(
        f.format(),
        Pixel::YUV420P
            | Pixel::YUVJ420P
            | Pixel::YUV422P
            | Pixel::YUVJ422P
            | Pixel::YUV444P
            | Pixel::YUVJ444P
            | Pixel::YUV440P
            | Pixel::YUVJ440P
            | Pixel::YUV411P
            | Pixel::YUV410P
    );
    if planar_8bit {
        return Ok(Features::from_yuv(&plane(f, 0), &plane(f, 1), &plane(f, 2)));
    }
    let (w, h) = (160u32, 90u32);
    let stale = gray.as_ref().is_none_or(|(s, _)| {
        s.input().format != f.format()
            || s.input().width != f.width()
            || s.input().height != f.height()
    });
    if stale {
        let ctx = scaling::Context::get(
            f.format(),
            f.width(),
            f.height(),
            Pixel::YUV444P,
            w,
            h,
            scaling::Flags::AREA,
        )
        .map_err(corrupt)?;
        *gray = Some((ctx, frame::Video::empty()));
    }
    let (ctx, out) = gray.as_mut().expect("set above");
    ctx.run(f, out).map_err(corrupt)?;
    Ok(Features::from_yuv(
        &plane(out, 0),
        &plane(out, 1),
        &plane(out, 2),
    ))
}

/// Width and height that fit `max_side` (never upscaled).
pub fn fit(w: u32, h: u32, max_side: u32) -> (u32, u32) {
    let long = w.max(h);
    if long <= max_side || long == 0 {
        return (w.max(1), h.max(1));
    }
    let scale = f64::from(max_side) / f64::from(long);
    (
        ((f64::from(w) * scale).round() as u32).max(1),
        ((f64::from(h) * scale).round() as u32).max(1),
    )
}

fn to_rgb(
    f: &frame::Video,
    max_side: u32,
    rotation: i32,
    scaler: &mut Option<scaling::Context>,
) -> Result<RgbImage, DecodeError> {
    let (w, h) = fit(f.width(), f.height(), max_side);
    let stale = scaler.as_ref().is_none_or(|s| {
        s.input().format != f.format()
            || s.input().width != f.width()
            || s.input().height != f.height()
    });
    if stale {
        *scaler = Some(
            scaling::Context::get(
                f.format(),
                f.width(),
                f.height(),
                Pixel::RGB24,
                w,
                h,
                scaling::Flags::AREA,
            )
            .map_err(corrupt)?,
        );
    }
    let mut out = frame::Video::empty();
    scaler
        .as_mut()
        .expect("set above")
        .run(f, &mut out)
        .map_err(corrupt)?;
    let stride = out.stride(0);
    let data = out.data(0);
    let row = w as usize * 3;
    let mut buf = Vec::with_capacity(row * h as usize);
    for y in 0..h as usize {
        buf.extend_from_slice(&data[y * stride..y * stride + row]);
    }
    let img = RgbImage::from_raw(w, h, buf).expect("buffer matches the size");
    Ok(match rotation {
        90 => image::imageops::rotate90(&img),
        180 => image::imageops::rotate180(&img),
        270 => image::imageops::rotate270(&img),
        _ => img,
    })
}

fn open_audio(
    ictx: &ffmpeg::format::context::Input,
    selections: &[AudioChannel],
    threads: usize,
) -> Result<Option<AudioState>, DecodeError> {
    let Some(stream) = ictx.streams().best(ffmpeg::media::Type::Audio) else {
        return Ok(None);
    };
    let decoder = decoder_for(&stream, threads)?.audio().map_err(corrupt)?;
    let channels = usize::from(decoder.channels());
    let mut outputs = Vec::with_capacity(selections.len());
    for sel in selections {
        let plane = match *sel {
            AudioChannel::Index(i) if i as usize >= channels => {
                return Err(DecodeError::Media(MediaError::NoSuchChannel {
                    index: i,
                    channels,
                }))
            }
            AudioChannel::Index(i) if channels > 1 => Some(i as usize),
            _ => None,
        };
        outputs.push(AudioOutput {
            selection: *sel,
            plane,
            resampler: None,
            converted: None,
            pending: Vec::with_capacity(CHUNK * 2),
            emitted: 0,
        });
    }
    Ok(Some(AudioState {
        index: stream.index(),
        decoder,
        time_base: f64::from(stream.time_base()),
        start: None,
        outputs,
        decoded: frame::Audio::empty(),
    }))
}

fn layout_of(f: &frame::Audio) -> ChannelLayout {
    let l = f.channel_layout();
    if l.is_empty() || l.channels() != i32::from(f.channels()) {
        ChannelLayout::default(i32::from(f.channels()))
    } else {
        l
    }
}

fn drain_audio(
    a: &mut AudioState,
    report: &mut DecodeReport,
    sink: &mut dyn FnMut(Event) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    while a.decoder.receive_frame(&mut a.decoded).is_ok() {
        let start = *a.start.get_or_insert_with(|| {
            a.decoded
                .timestamp()
                .map_or(0.0, |t| (t as f64 * a.time_base).max(0.0))
        });
        // Some decoders leave the layout unset; the resampler checks every frame against the
        // layout it was built for.
        let layout = layout_of(&a.decoded);
        a.decoded.set_channel_layout(layout);
        for out in &mut a.outputs {
            if out.resampler.is_none() {
                let (fmt, dst_layout) = match out.plane {
                    Some(_) => (Sample::F32(SampleType::Planar), layout),
                    None => (Sample::F32(SampleType::Packed), ChannelLayout::MONO),
                };
                out.resampler = Some(
                    resampling::Context::get(
                        a.decoded.format(),
                        layout,
                        a.decoded.rate(),
                        fmt,
                        dst_layout,
                        AUDIO_RATE,
                    )
                    .map_err(corrupt)?,
                );
            }
            out.convert(&a.decoded).map_err(corrupt)?;
            out.emit_full(start, report, sink)?;
        }
    }
    Ok(())
}

struct AudioOutput {
    selection: AudioChannel,
    /// Plane to read from a planar multi-channel output; None for the mono downmix.
    plane: Option<usize>,
    resampler: Option<resampling::Context>,
    /// The resampler's output, reused from one decoded frame to the next, and its size.
    converted: Option<(frame::Audio, usize)>,
    pending: Vec<f32>,
    emitted: u64,
}

impl AudioOutput {
    /// The resampler and its output frame, emptied, with room for at least `needed` samples.
    fn output(&mut self, needed: usize) -> (&mut resampling::Context, &mut frame::Audio) {
        let r = self.resampler.as_mut().expect("resampler exists");
        if self
            .converted
            .as_ref()
            .is_none_or(|(_, room)| *room < needed)
        {
            let room = needed.max(CHUNK);
            let f = frame::Audio::new(r.output().format, room, r.output().channel_layout);
            self.converted = Some((f, room));
        }
        let (f, room) = self.converted.as_mut().expect("set above");
        // The resampler fills up to the frame's sample count and then sets it to what it wrote.
        f.set_samples(*room);
        (r, f)
    }

    /// Resample one decoded frame into `pending`.
    fn convert(&mut self, decoded: &frame::Audio) -> Result<(), ffmpeg::Error> {
        let needed = decoded.samples() * AUDIO_RATE as usize / decoded.rate().max(1) as usize + 64;
        let (r, frame) = self.output(needed);
        r.run(decoded, frame)?;
        self.take();
        Ok(())
    }

    /// Move the samples of the last conversion to `pending`.
    fn take(&mut self) {
        let (frame, _) = self.converted.as_ref().expect("a conversion ran");
        let n = frame.samples();
        let bytes = &frame.data(self.plane.unwrap_or(0))[..n * 4];
        self.pending.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
        );
    }

    fn emit_full(
        &mut self,
        start: f64,
        report: &mut DecodeReport,
        sink: &mut dyn FnMut(Event) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        while self.pending.len() >= CHUNK {
            let rest = self.pending.split_off(CHUNK);
            let chunk = std::mem::replace(&mut self.pending, rest);
            self.emit(start, chunk, report, sink)?;
        }
        Ok(())
    }

    fn emit(
        &mut self,
        start: f64,
        samples: Vec<f32>,
        report: &mut DecodeReport,
        sink: &mut dyn FnMut(Event) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        let at = start + self.emitted as f64 / f64::from(AUDIO_RATE);
        self.emitted += samples.len() as u64;
        report.audio_samples = report.audio_samples.max(self.emitted);
        report.end_time = report
            .end_time
            .max(start + self.emitted as f64 / f64::from(AUDIO_RATE));
        sink(Event::Audio(AudioChunk {
            channel: self.selection,
            start: round3(at),
            samples,
        }))
    }

    /// Drain the resampler's delay and hand over what is left.
    fn flush(
        &mut self,
        start: f64,
        report: &mut DecodeReport,
        sink: &mut dyn FnMut(Event) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        if self.resampler.is_some() {
            loop {
                let (r, frame) = self.output(CHUNK);
                let more = r.flush(frame).map_err(corrupt)?;
                let empty = frame.samples() == 0;
                self.take();
                if more.is_none() || empty {
                    break;
                }
            }
        }
        self.emit_full(start, report, sink)?;
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit(start, rest, report, sink)?;
        }
        Ok(())
    }
}

fn flush_audio(
    a: &mut AudioState,
    report: &mut DecodeReport,
    sink: &mut dyn FnMut(Event) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let start = a.start.unwrap_or(0.0);
    for out in &mut a.outputs {
        out.flush(start, report, sink)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn fit_keeps_aspect_and_never_upscales() {
        assert_eq!(fit(1920, 1080, 640), (640, 360));
        assert_eq!(fit(1080, 1920, 640), (360, 640));
        assert_eq!(fit(320, 240, 640), (320, 240));
    }
}
