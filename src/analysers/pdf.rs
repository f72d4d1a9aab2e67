//! The `pdf` service: document info and the text layer of every page.

use pdfium_render::prelude::*;
use serde_json::json;

use super::pipeline::{Analyser, Findings, Needs};
use super::{AnalyseError, Input, Section};
use crate::jobs::services::PdfConfig;
use crate::media::pdf;

pub const VERSION: &str = "pdfium-8149";

/// Reads the document itself (pdfium), so it needs nothing from the decoder.
pub struct PdfAnalyser {
    config: PdfConfig,
}

impl PdfAnalyser {
    pub fn new(config: PdfConfig) -> PdfAnalyser {
        PdfAnalyser { config }
    }
}

impl Analyser for PdfAnalyser {
    fn needs(&self) -> Needs {
        Needs::default()
    }

    fn finish(
        self: Box<Self>,
        input: &Input,
        _earlier: &Findings,
    ) -> Result<Section, AnalyseError> {
        analyse(input, &self.config)
    }
}

fn analyse(input: &Input, cfg: &PdfConfig) -> Result<Section, AnalyseError> {
    let failed = |e: crate::media::MediaError| AnalyseError::Failed(e.to_string());
    let pdfium = pdf::pdfium(&input.models_dir).map_err(failed)?;
    let doc = pdf::open(pdfium, &input.path).map_err(failed)?;
    let pages = doc.pages();
    let count = pages.len();
    let mut out = Vec::new();
    for index in 0..count.min(cfg.max_pages as PdfPageIndex) {
        if input.cancel.is_cancelled() {
            return Err(AnalyseError::Cancelled);
        }
        input.report_progress(
            f64::from(index),
            f64::from(count.min(cfg.max_pages as PdfPageIndex)),
        );
        let page = pages
            .get(index)
            .map_err(|e| AnalyseError::Failed(format!("page {}: {e:?}", index + 1)))?;
        let text = page
            .text()
            .map(|t| t.all())
            .map_err(|e| AnalyseError::Failed(format!("text of page {}: {e:?}", index + 1)))?;
        out.push(json!({
            "page": index + 1,
            "width": round2(page.width().value),
            "height": round2(page.height().value),
            "text": normalise(&text),
            "ocr": false,
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

fn round2(x: f32) -> f64 {
    (f64::from(x) * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn normalises_line_ends() {
        assert_eq!(super::normalise("a \r\nb\rc\n\n"), "a\nb\nc");
    }
}
