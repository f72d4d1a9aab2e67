//! Whisper on whisper.cpp: the model is loaded once per process and shared; each job has its
//! own decoding state. A window of audio becomes segments of timed, scored words.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use tokio_util::sync::CancellationToken;
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use crate::analysers::AnalyseError;
use crate::models;

/// A word with times in seconds from the start of its window.
#[derive(Debug, Clone)]
pub struct Word {
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub confidence: f64,
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub words: Vec<Word>,
}

/// Languages written without spaces between words: each token that completes a character
/// sequence is a word of its own.
const UNSPACED: &[&str] = &["zh", "ja", "th", "lo", "my", "km", "yue", "bo"];

/// Whether `language` is written without spaces between words.
pub(super) fn unspaced(language: &str) -> bool {
    UNSPACED.contains(&language)
}

fn failed(what: &str, e: impl std::fmt::Display) -> AnalyseError {
    AnalyseError::Failed(format!("whisper {what}: {e}"))
}

fn context(path: &Path) -> Result<Arc<WhisperContext>, AnalyseError> {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Arc<WhisperContext>>>> = OnceLock::new();
    static HOOKS: OnceLock<()> = OnceLock::new();
    HOOKS.get_or_init(whisper_rs::install_logging_hooks);
    let mut loaded = LOADED
        .get_or_init(Default::default)
        .lock()
        .expect("model lock");
    if let Some(ctx) = loaded.get(path) {
        return Ok(ctx.clone());
    }
    // Flash attention is off: on this class of CPU it made the base model's encoder slower.
    // Word times come from the timestamp tokens, which matched a forced alignment better than
    // the attention-based (DTW) times: those mark a token's end, not its start.
    let params = WhisperContextParameters {
        flash_attn: false,
        ..WhisperContextParameters::default()
    };
    let path_str = path
        .to_str()
        .ok_or_else(|| failed("model path", "not UTF-8"))?;
    let ctx = Arc::new(
        WhisperContext::new_with_params(path_str, params)
            .map_err(|e| failed("model", format!("cannot load {}: {e}", path.display())))?,
    );
    loaded.insert(path.to_path_buf(), ctx.clone());
    Ok(ctx)
}

pub struct Whisper {
    state: WhisperState,
    eot: i32,
}

impl Whisper {
    pub fn load(models_dir: &Path) -> Result<Whisper, AnalyseError> {
        let path = models::path_of(models_dir, "whisper-base")
            .map_err(|e| AnalyseError::Failed(e.to_string()))?;
        let ctx = context(&path)?;
        Ok(Whisper {
            state: ctx.create_state().map_err(|e| failed("state", e))?,
            eot: ctx.token_eot(),
        })
    }

    /// The most likely language of `samples` and its probability.
    pub fn detect_language(
        &mut self,
        samples: &[f32],
        threads: usize,
    ) -> Result<(String, f64), AnalyseError> {
        self.state
            .pcm_to_mel(samples, threads)
            .map_err(|e| failed("language detection", e))?;
        let (id, probs) = self
            .state
            .lang_detect(0, threads)
            .map_err(|e| failed("language detection", e))?;
        let code = whisper_rs::get_lang_str(id)
            .ok_or_else(|| failed("language detection", format!("unknown language id {id}")))?;
        let p = probs.get(id as usize).copied().unwrap_or(0.0);
        Ok((code.to_string(), f64::from(p)))
    }

    /// Transcribe one window (at most 30 s) in `language`.
    pub fn transcribe(
        &mut self,
        samples: &[f32],
        language: &str,
        threads: usize,
        cancel: &CancellationToken,
    ) -> Result<Vec<Segment>, AnalyseError> {
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(threads as i32);
        params.set_language(Some(language));
        params.set_translate(false);
        // Windows are independent: text carried over from the previous window would let one
        // misheard phrase repeat through the rest of the media.
        params.set_no_context(true);
        params.set_token_timestamps(true);
        params.set_suppress_nst(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        // whisper-rs 0.16's `set_abort_callback_safe` hands its trampoline a pointer of the
        // wrong type, so the callback is installed by hand; `cancel` outlives the call.
        unsafe extern "C" fn aborted(token: *mut std::ffi::c_void) -> bool {
            // SAFETY: the pointer is the `&CancellationToken` set below, alive during `full`.
            unsafe { (*(token as *const CancellationToken)).is_cancelled() }
        }
        // SAFETY: the callback only reads the token, which lives until `full` returns.
        unsafe {
            params.set_abort_callback(Some(aborted));
            params.set_abort_callback_user_data(cancel as *const CancellationToken as *mut _);
        }
        self.state
            .full(params, samples)
            .map_err(|e| failed("decoding", e))?;
        let window_end = samples.len() as f64 / super::windows::RATE as f64;
        let unspaced = unspaced(language);
        let mut segments = Vec::new();
        for seg in self.state.as_iter() {
            let mut words: Vec<Word> = Vec::new();
            let mut bytes: Vec<u8> = Vec::new();
            let mut probs: Vec<f32> = Vec::new();
            let mut span = (0.0, 0.0);
            let mut flush = |bytes: &mut Vec<u8>, probs: &mut Vec<f32>, span: (f64, f64)| {
                let text = String::from_utf8_lossy(bytes).trim().to_string();
                if !text.is_empty() && !probs.is_empty() {
                    let confidence =
                        probs.iter().map(|&p| f64::from(p)).sum::<f64>() / probs.len() as f64;
                    words.push(Word {
                        start: span.0,
                        end: span.1.max(span.0),
                        text,
                        confidence,
                    });
                }
                bytes.clear();
                probs.clear();
            };
            for i in 0..seg.n_tokens() {
                let Some(token) = seg.get_token(i) else {
                    continue;
                };
                if token.token_id() >= self.eot {
                    continue; // timestamps and other special tokens
                }
                let data = token.token_data();
                let piece = token.to_bytes().unwrap_or_default();
                let (t0, t1) = token_span(&data, window_end);
                let starts_word = piece.first() == Some(&b' ')
                    || (unspaced && std::str::from_utf8(&bytes).is_ok());
                if starts_word && !bytes.is_empty() {
                    flush(&mut bytes, &mut probs, span);
                }
                if bytes.is_empty() {
                    span.0 = t0;
                }
                span.1 = t1;
                bytes.extend_from_slice(piece);
                probs.push(data.p);
            }
            flush(&mut bytes, &mut probs, span);
            if words.is_empty() {
                continue;
            }
            let text = seg
                .to_str_lossy()
                .map(|t| t.trim().to_string())
                .unwrap_or_default();
            segments.push(Segment {
                start: words[0].start,
                end: words[words.len() - 1].end,
                text,
                words,
            });
        }
        Ok(segments)
    }
}

/// A token's start and end in seconds, inside the window.
fn token_span(data: &whisper_rs::WhisperTokenData, window_end: f64) -> (f64, f64) {
    let cs = |t: i64| (t.max(0) as f64 / 100.0).min(window_end);
    let start = cs(data.t0);
    (start, cs(data.t1).max(start))
}
