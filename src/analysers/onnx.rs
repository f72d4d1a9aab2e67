//! ONNX Runtime for the analysers: the library from the model directory, loaded once per
//! process, and a pool of sessions per model, so a job neither reloads a model nor shares a
//! session with another job.
//!
//! Each session runs on one thread without spinning: the analysers' compute pool already
//! hands out one core per unit of work, and ONNX Runtime's own pool would oversubscribe it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;

use super::AnalyseError;

static RUNTIME: OnceLock<Result<(), String>> = OnceLock::new();
static IDLE: OnceLock<Mutex<HashMap<PathBuf, Vec<Session>>>> = OnceLock::new();

fn runtime(models_dir: &Path) -> Result<(), AnalyseError> {
    let lib = crate::models::path_of(models_dir, "onnxruntime")
        .map_err(|e| AnalyseError::Failed(e.to_string()))?;
    RUNTIME
        .get_or_init(|| {
            ort::init_from(lib.display().to_string())
                .with_name("airscope")
                .commit()
                .map(|_| ())
                .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", lib.display()))
        })
        .clone()
        .map_err(AnalyseError::Failed)
}

/// A session of one model, returned to the pool when dropped.
pub struct Pooled {
    model: PathBuf,
    session: Option<Session>,
}

impl Pooled {
    pub fn get(&mut self) -> &mut Session {
        self.session.as_mut().expect("held until drop")
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            let mut idle = IDLE
                .get_or_init(Default::default)
                .lock()
                .expect("pool lock");
            idle.entry(self.model.clone()).or_default().push(s);
        }
    }
}

/// A session of the model at `model` (a file of the model directory).
pub fn session(models_dir: &Path, model: &Path) -> Result<Pooled, AnalyseError> {
    runtime(models_dir)?;
    let idle = IDLE
        .get_or_init(Default::default)
        .lock()
        .expect("pool lock")
        .get_mut(model)
        .and_then(Vec::pop);
    let session = match idle {
        Some(s) => s,
        None => open(model).map_err(|e| {
            AnalyseError::Failed(format!("cannot load model {}: {e}", model.display()))
        })?,
    };
    Ok(Pooled {
        model: model.to_path_buf(),
        session: Some(session),
    })
}

/// Every graph optimisation but one: a quantised graph keeps its quantise/dequantise pairs
/// with float kernels between them instead of fused int8 kernels. Scores are the same and,
/// for YAMNet on x86-64, 1.7-2x faster (bench/audiotag.sh); float graphs have no such pairs.
fn open(model: &Path) -> ort::Result<Session> {
    Session::builder()?
        .with_optimization_level(GraphOptimizationLevel::Level3)?
        .with_config_entry("session.disable_quant_qdq", "1")?
        .with_intra_threads(1)?
        .with_inter_threads(1)?
        .with_intra_op_spinning(false)?
        .commit_from_file(model)
}
