//! One attempt of one job, from claim to terminal status.

use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::preflight::{self, PreflightError, Prepared};
use super::WorkerContext;
use crate::analysers::{self, AnalyseError, Input};
use crate::jobs::gallery::{known_faces, known_logos, GalleryReadError};
use crate::jobs::model::{JobRecord, JobSecrets, Status};
use crate::jobs::services::parse_services;
use crate::output;
use crate::storage::{Bucket, BucketLocation, StorageError};
use crate::store::{Claim, Finish, Lease, StoreError};

/// How an attempt ended, before it is recorded.
enum RunEnd {
    Completed {
        error_count: i64,
        output_path: String,
    },
    Failed(String),
    Transient(String),
    /// Cancelled by the user, lease lost, or process stopping.
    Stopped,
}

/// `source`: where this job slot keeps the sources it downloads.
pub async fn run_job(ctx: &Arc<WorkerContext>, claim: Claim, source: &Path) {
    let job_id = claim.job.id.clone();
    let token = CancellationToken::new();
    ctx.signals.running.insert(job_id.clone(), token.clone());
    let stop_on_shutdown = {
        let (shutdown, token) = (ctx.shutdown.clone(), token.clone());
        tokio::spawn(async move {
            shutdown.cancelled().await;
            token.cancel();
        })
    };
    let progress = Arc::new(AtomicU8::new(0));
    let heartbeat = tokio::spawn(heartbeat(
        ctx.clone(),
        claim.lease.clone(),
        token.clone(),
        progress.clone(),
    ));
    let started = std::time::Instant::now();

    let end = run(ctx, &claim, &token, progress, source).await;

    stop_on_shutdown.abort();
    ctx.signals.running.remove(&job_id);
    let lease = &claim.lease;
    let now = crate::time::now_ms();
    let recorded = match end {
        RunEnd::Completed {
            error_count,
            output_path,
        } => {
            let fin = Finish {
                status: Status::Completed,
                error: None,
                error_count,
                output_path: Some(output_path),
            };
            record(ctx, lease, &fin, now).await
        }
        RunEnd::Failed(reason) => {
            tracing::info!(job = %job_id, reason = %reason, "job failed");
            let fin = Finish {
                status: Status::Failed,
                error: Some(reason),
                error_count: 0,
                output_path: None,
            };
            record(ctx, lease, &fin, now).await
        }
        RunEnd::Transient(reason) if lease.attempt < i64::from(ctx.config.worker.max_attempts) => {
            let backoff = ctx.config.worker.retry_backoff_ms << (lease.attempt - 1).clamp(0, 10);
            tracing::warn!(job = %job_id, attempt = lease.attempt, reason = %reason, "transient fault, retrying later");
            ctx.store
                .retry_later(lease, now + backoff as i64)
                .await
                .ok()
                .map(|_| "retry")
        }
        RunEnd::Transient(reason) => {
            let fin = Finish {
                status: Status::Failed,
                error: Some(format!(
                    "{reason} (gave up after {} attempts)",
                    lease.attempt
                )),
                error_count: 0,
                output_path: None,
            };
            record(ctx, lease, &fin, now).await
        }
        RunEnd::Stopped if ctx.shutdown.is_cancelled() => {
            // Hand the job back so another worker (or this one after restart) takes it now.
            ctx.store
                .retry_later(lease, now)
                .await
                .ok()
                .map(|_| "handed back")
        }
        RunEnd::Stopped => Some("stopped"),
    };
    // Only now: the lease must stay alive while the outcome is recorded (through a store
    // outage, `record` retries for a while).
    heartbeat.abort();
    metrics::histogram!("airscope_job_attempt_seconds").record(started.elapsed().as_secs_f64());
    tracing::info!(job = %job_id, outcome = recorded.unwrap_or("lease lost"), "attempt ended");
}

async fn record(
    ctx: &WorkerContext,
    lease: &Lease,
    fin: &Finish,
    now: i64,
) -> Option<&'static str> {
    // A store outage (a database restart, a failover) is usually brief: waiting it out within
    // the lease saves running the job again. The write stays fenced, so a late one is harmless.
    let give_up = std::time::Instant::now() + Duration::from_secs(ctx.config.worker.lease_secs);
    let mut pause = Duration::from_millis(250);
    loop {
        match ctx.store.finish(lease, fin, now).await {
            Ok(true) => {
                metrics::counter!("airscope_jobs_finished_total", "status" => fin.status.as_str())
                    .increment(1);
                return Some(fin.status.as_str());
            }
            Ok(false) => {
                tracing::warn!(job = %lease.job_id, "lease lost before the outcome was recorded");
                return None;
            }
            Err(StoreError::Unavailable(e))
                if std::time::Instant::now() + pause < give_up && !ctx.shutdown.is_cancelled() =>
            {
                tracing::warn!(job = %lease.job_id, error = %e, "store unavailable; retrying the outcome");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(e) => {
                tracing::error!(job = %lease.job_id, error = %e, "cannot record the outcome; the lease will expire and the job run again");
                return None;
            }
        }
    }
}

/// Keep the lease alive and publish progress; cancel the run when the lease is no longer
/// ours (cancelled by the user, or expired and taken by another worker) or cannot be renewed
/// in time.
async fn heartbeat(
    ctx: Arc<WorkerContext>,
    lease: Lease,
    token: CancellationToken,
    media_progress: Arc<AtomicU8>,
) {
    let period = Duration::from_millis(ctx.config.worker.heartbeat_ms);
    let lease_ms = (ctx.config.worker.lease_secs * 1000) as i64;
    let mut last_ok = crate::time::now_ms();
    loop {
        tokio::time::sleep(period).await;
        let now = crate::time::now_ms();
        // Preflight is the first 10 %, analysis the next 85 %, writing the results the rest.
        let progress = 10 + i64::from(media_progress.load(Ordering::Relaxed)) * 85 / 100;
        match ctx.store.heartbeat(&lease, now + lease_ms, progress).await {
            Ok(true) => last_ok = now,
            Ok(false) => {
                token.cancel();
                return;
            }
            Err(e) => {
                tracing::warn!(job = %lease.job_id, error = %e, "heartbeat failed");
                if now - last_ok > lease_ms / 2 {
                    token.cancel();
                    return;
                }
            }
        }
    }
}

async fn run(
    ctx: &WorkerContext,
    claim: &Claim,
    cancel: &CancellationToken,
    progress: Arc<AtomicU8>,
    source: &Path,
) -> RunEnd {
    let job = &claim.job;
    let secrets: JobSecrets = match claim
        .secrets
        .as_deref()
        .map(|s| ctx.master.open(s))
        .transpose()
    {
        Ok(Some(plain)) => match serde_json::from_slice(&plain) {
            Ok(s) => s,
            Err(_) => return RunEnd::Failed("job credentials are unreadable".into()),
        },
        Ok(None) => return RunEnd::Failed("job credentials are missing".into()),
        Err(_) => {
            return RunEnd::Failed(
                "job credentials cannot be opened with this server's master key".into(),
            )
        }
    };
    let configs = match parse_services(&job.services) {
        Ok(c) => c,
        Err(_) => return RunEnd::Failed("the job's services are no longer valid".into()),
    };
    let prepared = match prepare(ctx, job, &secrets, cancel, source).await {
        Ok(p) => p,
        Err(PreflightError::Cancelled) => return RunEnd::Stopped,
        Err(PreflightError::Permanent(m)) => return RunEnd::Failed(m),
        Err(PreflightError::Transient(m)) => return RunEnd::Transient(m),
    };
    // The status write is a round trip the analysis need not wait for; it must land before
    // the output is reserved. A lease found lost stops the analysis.
    let advanced = {
        let (store, lease, cancel) = (ctx.store.clone(), claim.lease.clone(), cancel.clone());
        tokio::spawn(async move {
            let ours = matches!(
                store.advance(&lease, Status::InProgress, 10).await,
                Ok(true)
            );
            if !ours {
                cancel.cancel();
            }
            ours
        })
    };
    // A gallery that cannot be opened fails the face service alone; an unreachable store
    // is a fault worth another attempt.
    let faces = if analysers::may_run(&configs, "face") {
        known_faces(&*ctx.store, &ctx.master, &job.user_id).await
    } else {
        Ok(Vec::new())
    };
    let logos = if analysers::may_run(&configs, "logo") {
        known_logos(&*ctx.store, &job.user_id).await
    } else {
        Ok(Vec::new())
    };
    let (faces, logos) = match (readable(faces), readable(logos)) {
        (Ok(f), Ok(l)) => (f, l),
        (Err(e), _) | (_, Err(e)) => return RunEnd::Transient(e.to_string()),
    };
    let input = Input {
        path: prepared.source.path().to_path_buf(),
        media: prepared.media.clone(),
        pdf_info: prepared.pdf_info.clone(),
        models_dir: ctx.config.models_dir(),
        faces,
        logos,
        cancel: cancel.clone(),
        progress,
    };
    let analysis =
        match tokio::task::spawn_blocking(move || analysers::run_all(&input, &configs)).await {
            Ok(Ok(analysis)) => analysis,
            Ok(Err(AnalyseError::Cancelled)) => return RunEnd::Stopped,
            Ok(Err(AnalyseError::Failed(m))) => return RunEnd::Failed(m),
            Err(e) => return RunEnd::Failed(format!("analysis crashed: {e}")),
        };
    if cancel.is_cancelled() || !matches!(advanced.await, Ok(true)) {
        return RunEnd::Stopped;
    }
    write_output(ctx, claim, &secrets, &prepared, &analysis).await
}

async fn prepare(
    ctx: &WorkerContext,
    job: &JobRecord,
    secrets: &JobSecrets,
    cancel: &CancellationToken,
    path: &Path,
) -> Result<Prepared, PreflightError> {
    let source = preflight::locate_source(job, secrets, &ctx.config);
    tokio::select! {
        r = preflight::prepare(job, &source, &ctx.config, cancel, path) => r,
        () = cancel.cancelled() => Err(PreflightError::Cancelled),
    }
}

/// Reserve the output key under the lease, build and check the document, PUT it once.
async fn write_output(
    ctx: &WorkerContext,
    claim: &Claim,
    secrets: &JobSecrets,
    prepared: &Prepared,
    analysis: &analysers::Analysis,
) -> RunEnd {
    let job = &claim.job;
    let folder = output::output_folder(&job.destination.prefix, crate::time::now_ms(), &job.id);
    let wanted = output::metadata_key(&folder, &job.source.object_key);
    let key = match ctx.store.reserve_output(&claim.lease, &wanted).await {
        Ok(Some(k)) => k,
        Ok(None) => return RunEnd::Stopped,
        Err(e) => return RunEnd::Transient(format!("store: {e}")),
    };
    let mut doc = output::build(&output::MetadataInput {
        job,
        media: &prepared.media,
        analysis,
        metadata_key: &key,
    });
    let side_files = output::side_files(&mut doc, job, &key);
    if let Err(violations) = output::validate(&doc) {
        tracing::error!(job = %job.id, %violations, "metadata failed its schema");
        return RunEnd::Failed("internal error: the metadata file did not pass its schema".into());
    }
    let destination = BucketLocation {
        endpoint: ctx.config.default_storage_endpoint(),
        region: job.destination.region.clone(),
        bucket: job.destination.bucket.clone(),
        access_key: secrets.access_key.clone(),
        secret_key: secrets.secret_key.clone(),
        user_endpoint: false,
    };
    let body = serde_json::to_vec_pretty(&doc).expect("JSON serialises");
    // Side files first: the metadata file, written last, never names one that is missing.
    let put = async {
        let bucket = Bucket::open(&destination, &ctx.config.storage)?;
        for f in side_files {
            bucket.put(&f.key, f.body, f.content_type).await?;
        }
        bucket.put(&key, body, "application/json").await
    };
    match put.await {
        Ok(()) => RunEnd::Completed {
            error_count: output::failed_count(&analysis.runs),
            output_path: format!("s3://{}/{key}", job.destination.bucket),
        },
        Err(StorageError::Transient(m)) => RunEnd::Transient(m),
        Err(e) => RunEnd::Failed(format!("cannot write the results: {e}")),
    }
}

/// A gallery as a job reads it: an unreadable one fails its service alone (the outer `Ok`),
/// an unreachable store is a fault worth another attempt (the `Err`).
fn readable<T>(
    gallery: Result<Vec<T>, GalleryReadError>,
) -> Result<Result<Vec<T>, String>, GalleryReadError> {
    match gallery {
        Ok(g) => Ok(Ok(g)),
        Err(e @ GalleryReadError::Store(_)) => Err(e),
        Err(e) => Ok(Err(e.to_string())),
    }
}
