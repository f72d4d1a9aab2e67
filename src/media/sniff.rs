//! The media type from the first bytes of the object, never from its name.

use super::{MediaError, MediaType};

/// Bytes read from the start of the object to decide its type.
pub const SNIFF_LEN: u64 = 8192;

pub struct Sniffed {
    pub media_type: MediaType,
    pub mime: &'static str,
}

pub fn sniff(head: &[u8]) -> Result<Sniffed, MediaError> {
    let Some(kind) = infer::get(head) else {
        return Err(MediaError::Unsupported(
            "the content is not a recognised video, audio, image or PDF format".into(),
        ));
    };
    let mime = kind.mime_type();
    let media_type = match mime {
        "application/pdf" => MediaType::Document,
        m if m.starts_with("video/") => MediaType::Video,
        m if m.starts_with("audio/") => MediaType::Audio,
        "image/png" | "image/jpeg" | "image/gif" | "image/bmp" | "image/tiff" | "image/webp" => {
            MediaType::Image
        }
        other => return Err(MediaError::Unsupported(other.to_string())),
    };
    Ok(Sniffed { media_type, mime })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content_not_name() {
        assert_eq!(
            sniff(b"%PDF-1.7\n%\xe2\xe3").unwrap().media_type,
            MediaType::Document
        );
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png).unwrap().media_type, MediaType::Image);
        assert!(matches!(
            sniff(b"hello world, plain text"),
            Err(MediaError::Unsupported(_))
        ));
        assert!(
            matches!(sniff(b"PK\x03\x04rest-of-zip"), Err(MediaError::Unsupported(m)) if m.contains("zip"))
        );
    }
}
