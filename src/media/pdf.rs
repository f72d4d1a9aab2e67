//! PDF documents through pdfium (the library of the `pypdfium2` wheel, see `models`).

use std::path::Path;
use std::sync::OnceLock;

use pdfium_render::prelude::*;
use serde::Serialize;

use super::{MediaError, MediaInfo, MediaType};

static PDFIUM: OnceLock<Result<Pdfium, String>> = OnceLock::new();

/// The process-wide pdfium instance, bound on first use from the model directory.
pub fn pdfium(models_dir: &Path) -> Result<&'static Pdfium, MediaError> {
    let path = crate::models::path_of(models_dir, "pdfium")?;
    PDFIUM
        .get_or_init(|| {
            Pdfium::bind_to_library(&path)
                .map(Pdfium::new)
                .map_err(|e| format!("cannot load {}: {e}", path.display()))
        })
        .as_ref()
        .map_err(|e| MediaError::Corrupt {
            kind: "pdfium library",
            reason: format!("{e}; run `airscope models fetch`"),
        })
}

/// `info` of the `pdf` section.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PdfInfo {
    pub title: Option<String>,
    pub author: Option<String>,
    pub created: Option<String>,
}

pub fn open<'a>(pdfium: &'a Pdfium, path: &Path) -> Result<PdfDocument<'a>, MediaError> {
    pdfium.load_pdf_from_file(path, None).map_err(|e| match e {
        PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::PasswordError) => {
            MediaError::Encrypted
        }
        other => MediaError::Corrupt {
            kind: "PDF",
            reason: describe(&other),
        },
    })
}

fn describe(e: &PdfiumError) -> String {
    match e {
        PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::FormatError) => {
            "the file is not a valid PDF (damaged or truncated)".into()
        }
        other => format!("{other:?}"),
    }
}

/// Page count and document info, refusing encrypted and empty documents.
pub fn probe(
    models_dir: &Path,
    path: &Path,
    size: u64,
) -> Result<(MediaInfo, PdfInfo), MediaError> {
    let pdfium = pdfium(models_dir)?;
    let doc = open(pdfium, path)?;
    let pages = doc.pages().len();
    if pages <= 0 {
        return Err(MediaError::NoPages);
    }
    let meta = doc.metadata();
    let tag = |t| {
        meta.get(t)
            .map(|v| v.value().trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let info = PdfInfo {
        title: tag(PdfDocumentMetadataTagType::Title),
        author: tag(PdfDocumentMetadataTagType::Author),
        created: tag(PdfDocumentMetadataTagType::CreationDate).and_then(|d| pdf_date(&d)),
    };
    let mut media = MediaInfo::new(MediaType::Document, "application/pdf", "pdf", size);
    media.page_count = Some(pages as u32);
    Ok((media, info))
}

/// Load one page (0-based). Each call parses the page's content afresh: load it once.
pub fn page<'a>(doc: &'a PdfDocument, index: PdfPageIndex) -> Result<PdfPage<'a>, MediaError> {
    doc.pages().get(index).map_err(|e| MediaError::Corrupt {
        kind: "PDF page",
        reason: format!("page {}: {e:?}", index + 1),
    })
}

/// The text layer of a page, lines separated by `\n`, trailing blanks dropped.
pub fn page_text(page: &PdfPage, index: PdfPageIndex) -> Result<String, MediaError> {
    let text = page.text().map_err(|e| MediaError::Corrupt {
        kind: "PDF page",
        reason: format!("text of page {}: {e:?}", index + 1),
    })?;
    Ok(normalise(&text.all()))
}

/// pdfium separates lines with CR LF; keep plain `\n` and drop trailing blanks.
fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// Largest side of a rendered page, whatever the DPI asked (a poster-sized page at 300 DPI
/// would otherwise need gigabytes).
pub const MAX_RENDER_SIDE: i32 = 8000;

/// Render one page (0-based) to RGB at `dpi`.
pub fn render_page(doc: &PdfDocument, index: i32, dpi: f32) -> Result<image::RgbImage, MediaError> {
    let fail = |e: PdfiumError| MediaError::Corrupt {
        kind: "PDF page",
        reason: format!("page {}: {e:?}", index + 1),
    };
    let page = doc.pages().get(index).map_err(fail)?;
    let config = PdfRenderConfig::new()
        .scale_page_by_factor(dpi / 72.0)
        .set_maximum_width(MAX_RENDER_SIDE)
        .set_maximum_height(MAX_RENDER_SIDE);
    let bitmap = page.render_with_config(&config).map_err(fail)?;
    Ok(bitmap.as_image().map_err(fail)?.to_rgb8())
}

/// `D:YYYYMMDDHHmmSS+HH'mm'` (fields after the year optional) to RFC 3339.
pub fn pdf_date(raw: &str) -> Option<String> {
    let s = raw.strip_prefix("D:").unwrap_or(raw);
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() < 4 {
        return None;
    }
    let field = |from: usize, len: usize, default: &str| -> String {
        digits.get(from..from + len).unwrap_or(default).to_string()
    };
    let rest = &s[digits.len()..];
    let zone = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let z: String = rest[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            let hh = z.get(0..2).unwrap_or("00");
            let mm = z.get(2..4).unwrap_or("00");
            format!("{sign}{hh}:{mm}")
        }
        _ => "Z".to_string(),
    };
    Some(format!(
        "{}-{}-{}T{}:{}:{}{}",
        field(0, 4, "0000"),
        field(4, 2, "01"),
        field(6, 2, "01"),
        field(8, 2, "00"),
        field(10, 2, "00"),
        field(12, 2, "00"),
        zone
    ))
}

#[cfg(test)]
mod tests {
    use super::pdf_date;

    #[test]
    fn parses_pdf_dates() {
        assert_eq!(
            pdf_date("D:20240131120304+01'00'").as_deref(),
            Some("2024-01-31T12:03:04+01:00")
        );
        assert_eq!(
            pdf_date("D:20240131120304Z").as_deref(),
            Some("2024-01-31T12:03:04Z")
        );
        assert_eq!(pdf_date("D:2024").as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(pdf_date("garbage"), None);
    }

    #[test]
    fn normalises_line_ends() {
        assert_eq!(super::normalise("a \r\nb\rc\n\n"), "a\nb\nc");
    }
}
