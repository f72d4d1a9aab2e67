//! `airscope analyze FILE`: the job pipeline on a local file, no server, no storage.

use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::analysers::face::{self, KnownFace};
use crate::analysers::logo::{KnownLogo, Reference};
use crate::analysers::{self, Input};
use crate::config::Config;
use crate::jobs::model::{Destination, JobRecord, Source, Status};
use crate::jobs::services::{parse_services, KNOWN};
use crate::media::sniff::{sniff, SNIFF_LEN};
use crate::output;

/// Local galleries: folders of images, one sub-folder per person or logo.
pub struct Galleries {
    pub faces: Option<PathBuf>,
    pub logos: Option<PathBuf>,
}

pub async fn run(
    config: Config,
    file: PathBuf,
    services: Vec<String>,
    out: PathBuf,
    galleries: Galleries,
) -> anyhow::Result<()> {
    let services = if services.is_empty() {
        KNOWN.iter().map(|s| s.to_string()).collect()
    } else {
        services
    };
    let services_json: serde_json::Value = services
        .iter()
        .map(|s| (s.clone(), serde_json::Value::String(String::new())))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let configs = parse_services(&services_json).map_err(|e| anyhow::anyhow!("{e:?}"))?;

    let bar = ProgressBar::new(3 + configs.requested().len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message("probing");
    let path = std::fs::canonicalize(&file).with_context(|| format!("{}", file.display()))?;
    let size = std::fs::metadata(&path)?.len();
    if size == 0 {
        anyhow::bail!("{} is empty (0 bytes)", path.display());
    }
    let mut head = vec![0u8; SNIFF_LEN.min(size) as usize];
    std::io::Read::read_exact(&mut std::fs::File::open(&path)?, &mut head)?;
    let sniffed = sniff(&head)?;
    let (media, pdf_info) =
        crate::worker::probe_local(&path, sniffed.media_type, sniffed.mime, size, &config)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    let faces = match galleries
        .faces
        .filter(|_| analysers::may_run(&configs, "face"))
    {
        Some(dir) => {
            bar.set_message("enrolling faces");
            let models = config.models_dir();
            tokio::task::spawn_blocking(move || face_gallery(&dir, &models)).await??
        }
        None => Vec::new(),
    };
    let logos = match galleries
        .logos
        .filter(|_| analysers::may_run(&configs, "logo"))
    {
        Some(dir) => {
            bar.set_message("enrolling logos");
            tokio::task::spawn_blocking(move || logo_gallery(&dir)).await??
        }
        None => Vec::new(),
    };
    bar.inc(1);
    bar.set_message("analysing");
    let input = Input {
        path: path.clone(),
        media: media.clone(),
        pdf_info,
        models_dir: config.models_dir(),
        faces: Ok(faces),
        logos: Ok(logos),
        cancel: CancellationToken::new(),
        progress: Default::default(),
    };
    let analysis = tokio::task::spawn_blocking(move || analysers::run_all(&input, &configs))
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let runs = &analysis.runs;
    bar.inc(runs.len() as u64 + 1);
    bar.set_message("writing");

    let file_name = path.to_string_lossy().to_string();
    let now = crate::time::now_ms();
    let job = JobRecord {
        id: uuid::Uuid::now_v7().simple().to_string(),
        user_id: "local".into(),
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "local file".into()),
        batch: None,
        priority: 5,
        status: Status::Completed,
        services: services_json,
        source: Source {
            bucket: String::new(),
            object_key: file_name.clone(),
            endpoint: None,
            region: None,
            provider: None,
        },
        destination: Destination {
            bucket: String::new(),
            region: String::new(),
            prefix: String::new(),
        },
        notification_url: None,
        created_ms: now,
        started_ms: Some(now),
        completed_ms: Some(now),
        attempt: 1,
        progress: 100,
        error: None,
        error_count: output::failed_count(runs),
        output_path: None,
    };
    std::fs::create_dir_all(&out)?;
    let out = std::fs::canonicalize(&out)?;
    let target = out.join(format!("{}_metadata.json", output::basename(&file_name)));
    let key = target.to_string_lossy().to_string();
    let mut doc = output::build(&output::MetadataInput {
        job: &job,
        media: &media,
        analysis: &analysis,
        metadata_key: &key,
    });
    let side_files = output::side_files(&mut doc, &job, &key);
    let meta = &mut doc["message_payload"]["job_metadata"];
    meta["object_path"] = format!("file://{file_name}").into();
    meta["destination_path"] = format!("file://{key}").into();
    output::validate(&doc).map_err(|e| anyhow::anyhow!("metadata failed its schema: {e}"))?;
    // Side files first, so the metadata file never names one that is missing.
    for f in side_files {
        let tmp = PathBuf::from(format!("{}.partial", f.key));
        std::fs::write(&tmp, f.body)?;
        std::fs::rename(&tmp, &f.key)?;
    }
    let tmp = target.with_extension("json.partial");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&doc)?)?;
    std::fs::rename(&tmp, &target)?;
    bar.inc(1);
    bar.finish_and_clear();
    for r in runs {
        let state = match &r.outcome {
            analysers::Outcome::Completed(..) => "completed".to_string(),
            analysers::Outcome::Failed(e) => format!("failed: {e}"),
            analysers::Outcome::Skipped(e) => format!("skipped: {e}"),
        };
        eprintln!("{:<9} {state}", r.service);
    }
    println!("{}", target.display());
    Ok(())
}

/// A gallery folder's entries: each sub-folder, named after what its images show, and its
/// images.
fn gallery_folders(dir: &Path, kind: &str) -> anyhow::Result<Vec<(String, Vec<PathBuf>)>> {
    let read = |d: &Path| -> anyhow::Result<Vec<PathBuf>> {
        let mut paths = std::fs::read_dir(d)
            .with_context(|| format!("{kind} gallery {}", d.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()?;
        paths.sort();
        Ok(paths)
    };
    let mut entries = Vec::new();
    for sub in read(dir)?.into_iter().filter(|p| p.is_dir()) {
        let name = sub
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let images: Vec<PathBuf> = read(&sub)?.into_iter().filter(|p| p.is_file()).collect();
        if !images.is_empty() {
            entries.push((name, images));
        }
    }
    if entries.is_empty() {
        anyhow::bail!(
            "{kind} gallery {} has no images (expected one folder of images per {kind})",
            dir.display()
        );
    }
    Ok(entries)
}

/// A face gallery from a folder: one sub-folder per person, named after them, holding photos
/// that each show that person alone.
fn face_gallery(dir: &Path, models_dir: &Path) -> anyhow::Result<Vec<KnownFace>> {
    let mut dlib = face::Dlib::load(models_dir)?;
    let mut gallery = Vec::new();
    for (name, photos) in gallery_folders(dir, "face")? {
        for photo in photos {
            let embedding = face::enrol(&mut dlib, &photo)
                .with_context(|| format!("face gallery photo {}", photo.display()))?;
            gallery.push(KnownFace {
                name: name.clone(),
                embedding,
            });
        }
    }
    Ok(gallery)
}

/// A logo gallery from a folder: one sub-folder per logo, named after it, holding reference
/// images of it. Each logo's id is its folder name.
fn logo_gallery(dir: &Path) -> anyhow::Result<Vec<KnownLogo>> {
    gallery_folders(dir, "logo")?
        .into_iter()
        .map(|(name, images)| {
            let references = images
                .iter()
                .map(|path| {
                    crate::media::image::load(path)
                        .map_err(anyhow::Error::from)
                        .and_then(|img| Ok(Reference::describe(&img)?))
                        .with_context(|| format!("logo gallery image {}", path.display()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(KnownLogo {
                id: name.clone(),
                name,
                references,
            })
        })
        .collect()
}
