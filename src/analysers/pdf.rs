//! The `pdf` service: document info and the text of every page: its text layer, or, for a page
//! without one (per the `ocr` setting), what OCR reads on the rendered page.

use pdfium_render::prelude::*;
use serde_json::{json, Value};

use super::ocr::{self, Reader};
use super::pipeline::{Analyser, Findings, Needs};
use super::{AnalyseError, Input, Section};
use crate::jobs::services::PdfConfig;
use crate::media::pdf;

pub const VERSION: &str = "pdfium-8149+pp-ocrv4";

/// Reads the document itself (pdfium), so it needs nothing from the decoder.
pub struct PdfAnalyser {
    config: PdfConfig,
    /// The `ocr` service's `min_confidence`, when the job asked for it.
    ocr_min_confidence: Option<f64>,
}

impl PdfAnalyser {
    pub fn new(config: PdfConfig, ocr_min_confidence: Option<f64>) -> PdfAnalyser {
        PdfAnalyser {
            config,
            ocr_min_confidence,
        }
    }
}

impl Analyser for PdfAnalyser {
    fn needs(&self) -> Needs {
        Needs::default()
    }

    fn finish(self: Box<Self>, input: &Input, earlier: &Findings) -> Result<Section, AnalyseError> {
        // The ocr section holds every line the pdf text needs only when its own threshold
        // kept at least as much.
        let lenient = self
            .ocr_min_confidence
            .is_some_and(|m| m as f32 <= ocr::PAGE_MIN_CONFIDENCE);
        let section = earlier.get("ocr").filter(|_| lenient);
        analyse(input, &self.config, section)
    }
}

fn analyse(
    input: &Input,
    cfg: &PdfConfig,
    ocr_section: Option<&Value>,
) -> Result<Section, AnalyseError> {
    let failed = |e: crate::media::MediaError| AnalyseError::Failed(e.to_string());
    let pdfium = pdf::pdfium(&input.models_dir).map_err(failed)?;
    let doc = pdf::open(pdfium, &input.path).map_err(failed)?;
    let pages = doc.pages();
    let count = pages.len();
    let last = count.min(cfg.max_pages as PdfPageIndex);
    // Loaded at the first page that needs it: most PDFs have a text layer throughout.
    let mut reader: Option<Reader> = None;
    let mut out = Vec::new();
    for index in 0..last {
        if input.cancel.is_cancelled() {
            return Err(AnalyseError::Cancelled);
        }
        input.report_progress(f64::from(index), f64::from(last));
        let page = pdf::page(&doc, index).map_err(failed)?;
        let layer = pdf::page_text(&page, index).map_err(failed)?;
        let mut by_ocr = ocr::page_needs_ocr(cfg.ocr, &layer);
        let text = match (by_ocr, ocr_section) {
            (false, _) => layer,
            // The ocr service already read this document's pages.
            (true, Some(section)) => section_text(section, (index + 1) as u32),
            (true, None) => {
                let reader = match &mut reader {
                    Some(r) => r,
                    None => reader.insert(Reader::load(&input.models_dir)?),
                };
                match ocr::read_page(reader, &doc, index) {
                    Ok(lines) => ocr::page_text(
                        lines
                            .iter()
                            .filter(|(l, _)| l.reading.legible(ocr::PAGE_MIN_CONFIDENCE))
                            .map(|(l, r)| (l.reading.text.as_str(), r)),
                    ),
                    // A page that cannot be rendered (a degenerate page box) keeps its empty
                    // text layer; the other pages are still read.
                    Err(e) => {
                        tracing::warn!(page = index + 1, error = %e, "page not read by OCR");
                        by_ocr = false;
                        layer
                    }
                }
            }
        };
        out.push(json!({
            "page": index + 1,
            "width": round2(page.width().value),
            "height": round2(page.height().value),
            "text": text,
            "ocr": by_ocr,
        }));
    }
    let info = input.pdf_info.clone().unwrap_or_default();
    Ok((
        "pdf",
        json!({
            "page_count": count,
            "info": info,
            "pages": out,
        }),
    ))
}

/// A page's text from the `ocr` section's detections on that page.
fn section_text(section: &Value, page: u32) -> String {
    let detections = section["detections"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let on_page: Vec<(String, ocr::Rect)> = detections
        .iter()
        .filter(|d| d["page"].as_u64() == Some(u64::from(page)))
        .map(|d| {
            let b = &d["bbox"];
            let f = |k: &str| b[k].as_f64().unwrap_or(0.0) as f32;
            let r = ocr::Rect {
                x0: f("x"),
                y0: f("y"),
                x1: f("x") + f("width"),
                y1: f("y") + f("height"),
            };
            (d["text"].as_str().unwrap_or_default().to_string(), r)
        })
        .collect();
    ocr::page_text(on_page.iter().map(|(t, r)| (t.as_str(), r)))
}

fn round2(x: f32) -> f64 {
    (f64::from(x) * 100.0).round() / 100.0
}
