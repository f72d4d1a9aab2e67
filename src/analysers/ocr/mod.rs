//! The `ocr` service: text on video frames, in images and on PDF pages without a text layer,
//! read with PP-OCRv4 (detection, angle, recognition) on ONNX Runtime.

mod detect;
mod geometry;
mod reader;
mod recognise;
mod tensor;
pub mod track;

use pdfium_render::prelude::PdfPageIndex;
use serde_json::{json, Value};

use super::pipeline::{Analyser, Findings, Frame, Needs};
use super::rect::bbox_json;
use super::{round3, AnalyseError, Input, Section};
use crate::jobs::services::{OcrConfig, PdfConfig, PdfOcr};
use crate::media::{pdf, MediaType};
pub use geometry::Rect;
pub use reader::{Line, Reader, Scale};
use track::{Appearance, Tracker};

pub const VERSION: &str = "pp-ocrv4";

/// Video frames are decoded at most this wide (720p stays native), and the detector runs at
/// most [`VIDEO_DETECT_SIDE`] on them.
const VIDEO_SIDE: u32 = 1280;
pub const VIDEO_DETECT_SIDE: u32 = 640;
/// Images are read at up to RapidOCR's `max_side_len`.
const IMAGE_SIDE: u32 = 2000;
/// Pages without a text layer are rendered at this resolution, a common scanning DPI.
pub const PAGE_DPI: f32 = 200.0;

pub struct OcrAnalyser {
    config: OcrConfig,
    pdf: PdfConfig,
    media: MediaType,
    reader: Reader,
    tracker: Tracker,
    /// An image's lines (it has no times), bboxes normalised.
    still: Vec<(Line, Rect)>,
}

impl OcrAnalyser {
    pub fn new(config: OcrConfig, pdf: PdfConfig, input: &Input) -> Result<Self, AnalyseError> {
        let scale = match input.media.media_type {
            MediaType::Video => Scale::LongSide(VIDEO_DETECT_SIDE),
            _ => Scale::Still,
        };
        Ok(OcrAnalyser {
            tracker: Tracker::new(scale, config.min_confidence as f32),
            reader: Reader::load(&input.models_dir)?,
            media: input.media.media_type,
            config,
            pdf,
            still: Vec::new(),
        })
    }
}

impl Analyser for OcrAnalyser {
    fn needs(&self) -> Needs {
        let side = match self.media {
            MediaType::Video => VIDEO_SIDE,
            _ => IMAGE_SIDE,
        };
        Needs {
            frames: (self.media != MediaType::Document)
                .then_some((self.config.frame_interval, side)),
            ..Needs::default()
        }
    }

    fn frame(&mut self, frame: &Frame) -> Result<(), AnalyseError> {
        if self.media == MediaType::Image {
            self.still = normalised(self.reader.lines(&frame.image, Scale::Still)?, &frame.image);
            return Ok(());
        }
        self.tracker
            .frame(&mut self.reader, &frame.image, frame.time, frame.shot_start)
    }

    fn finish(
        mut self: Box<Self>,
        input: &Input,
        _earlier: &Findings,
    ) -> Result<Section, AnalyseError> {
        let min = self.config.min_confidence as f32;
        let detections: Vec<Value> = match self.media {
            MediaType::Document => read_document(&mut self.reader, input, &self.pdf, min)?,
            MediaType::Image => std::mem::take(&mut self.still)
                .into_iter()
                .filter(|(l, _)| l.reading.legible(min))
                .map(|(l, r)| detection(&l.reading.text, l.reading.confidence, &r, None))
                .collect(),
            _ => {
                tracing::debug!(work = ?self.tracker.work, "ocr tracking");
                self.tracker.finish().iter().map(timed).collect()
            }
        };
        Ok(("ocr", section(detections)))
    }
}

/// Lines the `pdf` service puts in a page's text: RapidOCR's own `text_score`.
pub const PAGE_MIN_CONFIDENCE: f32 = 0.5;

fn detection(text: &str, confidence: f32, r: &Rect, page: Option<u32>) -> Value {
    let mut d = json!({
        "text": text.trim(),
        "confidence": round3(f64::from(confidence)),
        "bbox": bbox_json(r),
    });
    if let Some(p) = page {
        d["page"] = json!(p);
    }
    d
}

fn timed(a: &Appearance) -> Value {
    let mut d = detection(&a.text, a.confidence, &a.bbox, None);
    d["start"] = json!(round3(a.start));
    d["end"] = json!(round3(a.end));
    d
}

/// The section: detections, and the distinct lines in order of first appearance.
fn section(detections: Vec<Value>) -> Value {
    let mut seen = std::collections::HashSet::new();
    let mut text: Vec<String> = Vec::new();
    for d in &detections {
        let line = d["text"].as_str().unwrap_or_default();
        if seen.insert(line) {
            text.push(line.to_string());
        }
    }
    json!({ "text": text, "detections": detections })
}

/// Whether a page is read by OCR under the `pdf` service's `ocr` setting.
pub fn page_needs_ocr(mode: PdfOcr, text_layer: &str) -> bool {
    match mode {
        PdfOcr::Always => true,
        PdfOcr::Never => false,
        PdfOcr::Auto => text_layer.trim().is_empty(),
    }
}

/// Lines with their bboxes normalised to the picture they were read from.
fn normalised(lines: Vec<Line>, image: &image::RgbImage) -> Vec<(Line, Rect)> {
    lines
        .into_iter()
        .map(|l| {
            let r = l.quad.normalised(image.width(), image.height());
            (l, r)
        })
        .collect()
}

/// The lines of one rendered page, bboxes normalised to the page.
pub fn read_page(
    reader: &mut Reader,
    doc: &pdfium_render::prelude::PdfDocument,
    index: PdfPageIndex,
) -> Result<Vec<(Line, Rect)>, AnalyseError> {
    let image =
        pdf::render_page(doc, index, PAGE_DPI).map_err(|e| AnalyseError::Failed(e.to_string()))?;
    Ok(normalised(reader.lines(&image, Scale::Still)?, &image))
}

fn read_document(
    reader: &mut Reader,
    input: &Input,
    cfg: &PdfConfig,
    min: f32,
) -> Result<Vec<Value>, AnalyseError> {
    let failed = |e: crate::media::MediaError| AnalyseError::Failed(e.to_string());
    let pdfium = pdf::pdfium(&input.models_dir).map_err(failed)?;
    let doc = pdf::open(pdfium, &input.path).map_err(failed)?;
    let count = doc.pages().len().min(cfg.max_pages as PdfPageIndex);
    let mut out = Vec::new();
    for index in 0..count {
        if input.cancel.is_cancelled() {
            return Err(AnalyseError::Cancelled);
        }
        input.report_progress(f64::from(index), f64::from(count));
        let layer =
            pdf::page_text(&pdf::page(&doc, index).map_err(failed)?, index).map_err(failed)?;
        let mode = match cfg.ocr {
            // The ocr service was asked for: pages without text are read even when the pdf
            // service would not read them itself.
            PdfOcr::Never => PdfOcr::Auto,
            m => m,
        };
        if !page_needs_ocr(mode, &layer) {
            continue;
        }
        for (line, r) in read_page(reader, &doc, index)? {
            if line.reading.legible(min) {
                out.push(detection(
                    &line.reading.text,
                    line.reading.confidence,
                    &r,
                    Some((index + 1) as u32),
                ));
            }
        }
    }
    Ok(out)
}

/// A page's text from its lines in reading order: lines whose boxes share a row are joined by
/// a space, rows by a newline.
pub fn page_text<'a>(lines: impl Iterator<Item = (&'a str, &'a Rect)>) -> String {
    let mut text = String::new();
    let mut row: Option<Rect> = None;
    for (t, r) in lines {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        let middle = (r.y0 + r.y1) / 2.0;
        match row {
            Some(prev) if middle > prev.y0 && middle < prev.y1 => text.push(' '),
            Some(_) => text.push('\n'),
            None => {}
        }
        text.push_str(t);
        row = Some(*r);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(y0: f32, y1: f32) -> Rect {
        Rect {
            x0: 0.0,
            y0,
            x1: 1.0,
            y1,
        }
    }

    #[test]
    fn page_text_joins_a_row_with_spaces_and_rows_with_newlines() {
        let (a, b, c) = (rect(0.1, 0.2), rect(0.11, 0.19), rect(0.3, 0.4));
        let lines = [("Total", &a), ("42", &b), ("", &c), ("Thanks", &c)];
        assert_eq!(page_text(lines.into_iter()), "Total 42\nThanks");
    }

    #[test]
    fn the_section_lists_each_line_once_in_order() {
        let d = |t: &str| json!({"text": t});
        let s = section(vec![d("B"), d("A"), d("B")]);
        assert_eq!(s["text"], json!(["B", "A"]));
    }

    #[test]
    fn pages_are_read_per_the_pdf_setting() {
        assert!(page_needs_ocr(PdfOcr::Auto, "  \n"));
        assert!(!page_needs_ocr(PdfOcr::Auto, "Invoice"));
        assert!(page_needs_ocr(PdfOcr::Always, "Invoice"));
        assert!(!page_needs_ocr(PdfOcr::Never, ""));
    }
}
