//! Probing: container facts of audio and video (FFmpeg, in process) and image headers.

use std::path::Path;
use std::sync::Once;

use ffmpeg_next as ffmpeg;

use super::{MediaError, MediaInfo, MediaType};

pub(crate) fn init_ffmpeg() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = ffmpeg::init();
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Fatal);
    });
}

/// Probe an audio or video file. A "video" without a video stream is audio; a file with
/// neither is refused.
pub fn probe_av(path: &Path, mime: &str, size: u64) -> Result<MediaInfo, MediaError> {
    init_ffmpeg();
    let ictx = ffmpeg::format::input(&path).map_err(|e| ffmpeg_error("media file", e))?;
    let mut info = MediaInfo::new(MediaType::Audio, mime, ictx.format().name(), size);
    let duration = ictx.duration();
    if duration > 0 {
        info.duration = Some(round3(
            duration as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE),
        ));
    }
    if ictx.bit_rate() > 0 {
        info.bit_rate = Some(ictx.bit_rate() as u64);
    }
    for stream in ictx.streams() {
        let params = stream.parameters();
        let attached = stream
            .disposition()
            .contains(ffmpeg::format::stream::Disposition::ATTACHED_PIC);
        match params.medium() {
            ffmpeg::media::Type::Video if !attached && info.video_codec.is_none() => {
                check_decoder(&stream)?;
                info.media_type = MediaType::Video;
                info.video_codec = Some(params.id().name().to_string());
                if let Ok(v) = ffmpeg::codec::context::Context::from_parameters(params)
                    .and_then(|c| c.decoder().video())
                {
                    info.width = Some(v.width());
                    info.height = Some(v.height());
                }
                let fr = stream.avg_frame_rate();
                if fr.denominator() != 0 && fr.numerator() > 0 {
                    info.frame_rate = Some(round3(f64::from(fr)));
                }
                info.rotation = Some(rotation(&stream));
            }
            ffmpeg::media::Type::Audio if info.audio_codec.is_none() => {
                check_decoder(&stream)?;
                info.audio_codec = Some(params.id().name().to_string());
                if let Ok(a) = ffmpeg::codec::context::Context::from_parameters(params)
                    .and_then(|c| c.decoder().audio())
                {
                    info.audio_channels = Some(u32::from(a.channels()));
                    info.audio_sample_rate = Some(a.rate());
                }
            }
            _ => {}
        }
    }
    if info.video_codec.is_none() && info.audio_codec.is_none() {
        return Err(MediaError::NoStreams);
    }
    if info.media_type == MediaType::Audio && info.mime_type.starts_with("video/") {
        info.mime_type = info.mime_type.replacen("video/", "audio/", 1);
    }
    Ok(info)
}

/// A failure of FFmpeg on a file, said the way a user can act on.
pub(crate) fn ffmpeg_error(kind: &'static str, e: ffmpeg::Error) -> MediaError {
    let reason = match e {
        ffmpeg::Error::Eof => {
            "the file ends before any media data (truncated, or no frames)".into()
        }
        other => other.to_string(),
    };
    MediaError::Corrupt { kind, reason }
}

/// Refuse a stream whose codec this FFmpeg cannot decode.
pub(crate) fn check_decoder(stream: &ffmpeg::format::stream::Stream) -> Result<(), MediaError> {
    let params = stream.parameters();
    let id = params.id();
    if ffmpeg::decoder::find(id).is_some() {
        return Ok(());
    }
    let kind = match params.medium() {
        ffmpeg::media::Type::Audio => "audio",
        _ => "video",
    };
    let name = if id == ffmpeg::codec::Id::None {
        // SAFETY: reading a plain field of the parameters the stream owns.
        let tag = unsafe { (*params.as_ptr()).codec_tag }.to_le_bytes();
        format!("with tag `{}`", String::from_utf8_lossy(&tag))
    } else {
        format!("`{}`", id.name())
    };
    Err(MediaError::Unsupported(format!(
        "{kind} codec {name} (no decoder for it in this FFmpeg)"
    )))
}

/// Clockwise rotation in degrees that a player applies, from the display matrix (or the
/// legacy `rotate` tag, which has the same sense).
fn rotation(stream: &ffmpeg::format::stream::Stream) -> i32 {
    for sd in stream.side_data() {
        if sd.kind() == ffmpeg::codec::packet::side_data::Type::DisplayMatrix
            && sd.data().len() >= 36
        {
            let m: Vec<f64> = sd
                .data()
                .chunks_exact(4)
                .take(4)
                .map(|c| f64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])) / 65536.0)
                .collect();
            // av_display_rotation_get() is -atan2(m1, m0), counter-clockwise; clockwise is
            // its negation.
            return normalise_degrees(m[1].atan2(m[0]).to_degrees());
        }
    }
    stream
        .metadata()
        .get("rotate")
        .and_then(|r| r.parse::<f64>().ok())
        .map(normalise_degrees)
        .unwrap_or(0)
}

fn normalise_degrees(d: f64) -> i32 {
    ((d.round() as i32 % 360) + 360) % 360
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Dimensions of an image from its header (the pixels are not decoded here).
pub fn probe_image(path: &Path, mime: &str, size: u64) -> Result<MediaInfo, MediaError> {
    let corrupt = |reason: String| MediaError::Corrupt {
        kind: "image",
        reason,
    };
    let reader = image::ImageReader::open(path)
        .map_err(|e| corrupt(e.to_string()))?
        .with_guessed_format()
        .map_err(|e| corrupt(e.to_string()))?;
    let format = reader
        .format()
        .map(|f| f.extensions_str().first().copied().unwrap_or("image"))
        .unwrap_or("image");
    let mut decoder = reader.into_decoder().map_err(|e| corrupt(e.to_string()))?;
    let (w, h) = image::ImageDecoder::dimensions(&decoder);
    super::image::check_dimensions(w, h)?;
    let orientation =
        image::ImageDecoder::orientation(&mut decoder).map_err(|e| corrupt(e.to_string()))?;
    let mut info = MediaInfo::new(MediaType::Image, mime, format, size);
    info.width = Some(w);
    info.height = Some(h);
    // As for video: the stored size, and the clockwise turn a viewer applies (EXIF).
    use image::metadata::Orientation as O;
    info.rotation = Some(match orientation {
        O::Rotate90 | O::Rotate90FlipH => 90,
        O::Rotate180 | O::FlipVertical => 180,
        O::Rotate270 | O::Rotate270FlipH => 270,
        O::NoTransforms | O::FlipHorizontal => 0,
    });
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degrees_normalise_into_0_360() {
        assert_eq!(normalise_degrees(-90.0), 270);
        assert_eq!(normalise_degrees(90.0), 90);
        assert_eq!(normalise_degrees(-0.0), 0);
        assert_eq!(normalise_degrees(450.0), 90);
    }
}
