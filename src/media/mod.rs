//! Media: what a source is (sniffed from its bytes), what it contains (probed with FFmpeg,
//! pdfium or the image decoder), and the decoders the analysers read from.

pub mod decode;
pub mod image;
pub mod pdf;
pub mod probe;
pub mod shots;
pub mod sniff;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    Video,
    Audio,
    Image,
    Document,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Video => "video",
            MediaType::Audio => "audio",
            MediaType::Image => "image",
            MediaType::Document => "document",
        }
    }
}

/// The `technical_metadata` section: what applies to the media type is set, the rest omitted.
#[derive(Debug, Clone, Serialize)]
pub struct MediaInfo {
    pub media_type: MediaType,
    pub mime_type: String,
    pub format: String,
    pub size_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_codec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_codec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_channels: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_sample_rate: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_rate: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_count: Option<u32>,
}

impl MediaInfo {
    pub fn new(media_type: MediaType, mime_type: &str, format: &str, size_bytes: u64) -> Self {
        MediaInfo {
            media_type,
            mime_type: mime_type.to_string(),
            format: format.to_string(),
            size_bytes,
            duration: None,
            width: None,
            height: None,
            frame_rate: None,
            video_codec: None,
            audio_codec: None,
            audio_channels: None,
            audio_sample_rate: None,
            bit_rate: None,
            rotation: None,
            page_count: None,
        }
    }

    /// Seconds of media analysed (`airtime_duration`): 0 for images and documents.
    pub fn airtime(&self) -> f64 {
        match self.media_type {
            MediaType::Video | MediaType::Audio => self.duration.unwrap_or(0.0),
            _ => 0.0,
        }
    }
}

/// Why a source cannot be analysed. The message is the job's `Error`.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("unsupported media type: {0}")]
    Unsupported(String),
    #[error("corrupt or unreadable {kind}: {reason}")]
    Corrupt { kind: &'static str, reason: String },
    #[error("PDF is encrypted (password protected); airscope cannot read it")]
    Encrypted,
    #[error("PDF has no pages")]
    NoPages,
    #[error("{0}")]
    TooLarge(String),
    #[error("media contains no audio or video stream")]
    NoStreams,
    #[error("audio_channel {index} does not exist: the audio has {channels} channel(s)")]
    NoSuchChannel { index: u32, channels: usize },
    #[error("{0}")]
    Model(#[from] crate::models::ModelError),
}
