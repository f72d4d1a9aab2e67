//! Workers: claim jobs with a lease, keep it alive with heartbeats, run them, and write the
//! outcome only while the lease is still theirs.

mod preflight;
mod run;
mod scratch;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::crypto::MasterKey;
use crate::jobs::ops::JobSignals;
use crate::store::Store;

pub use preflight::{locate_source, probe_local, PreflightError};
use scratch::Scratch;

pub struct WorkerContext {
    pub store: Arc<dyn Store>,
    pub master: MasterKey,
    pub config: Arc<Config>,
    pub signals: Arc<JobSignals>,
    /// Fires when the process stops: workers stop claiming and hand their jobs back.
    pub shutdown: CancellationToken,
}

/// Start `config.worker.concurrency` worker loops and the webhook sender.
pub fn spawn_pool(ctx: Arc<WorkerContext>) -> std::io::Result<Vec<JoinHandle<()>>> {
    let scratch = Arc::new(Scratch::open(&ctx.config.data_dir)?);
    let mut tasks: Vec<JoinHandle<()>> = (0..ctx.config.worker.concurrency)
        .map(|i| {
            let (ctx, scratch) = (ctx.clone(), scratch.clone());
            tokio::spawn(async move { worker_loop(ctx, i, scratch).await })
        })
        .collect();
    tasks.push(tokio::spawn(webhooks::deliver_loop(ctx)));
    Ok(tasks)
}

async fn worker_loop(ctx: Arc<WorkerContext>, index: usize, scratch: Arc<Scratch>) {
    let source = scratch.source(index);
    let poll = Duration::from_millis(ctx.config.worker.poll_interval_ms);
    let lease_ms = (ctx.config.worker.lease_secs * 1000) as i64;
    let max_attempts = i64::from(ctx.config.worker.max_attempts);
    tracing::debug!(worker = index, "worker started");
    while !ctx.shutdown.is_cancelled() {
        // Register interest before looking, so a submission between the look and the wait
        // is not missed.
        let wake = ctx.signals.work_available.notified();
        match ctx
            .store
            .claim(crate::time::now_ms(), lease_ms, max_attempts)
            .await
        {
            Ok(Some(claim)) => {
                if claim.recovered {
                    metrics::counter!("airscope_lease_expiries_total").increment(1);
                    tracing::warn!(job = %claim.job.id, attempt = claim.lease.attempt, "recovered a job whose lease expired");
                }
                run::run_job(&ctx, claim, &source).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "claim failed"),
        }
        tokio::select! {
            () = wake => {},
            () = tokio::time::sleep(poll) => {},
            () = ctx.shutdown.cancelled() => {},
        }
    }
}
