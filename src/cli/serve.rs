//! `airscope serve`: API, workers and embedded storage in one process.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::{self, AppState};
use crate::config::Config;
use crate::jobs::gallery::Galleries;
use crate::jobs::ops::JobSignals;
use crate::jobs::JobsService;
use crate::worker::{self, WorkerContext};

pub async fn run(mut config: Config, no_workers: bool) -> anyhow::Result<()> {
    let (store, master, keys) = super::open_keys(&config).await?;
    if let Some(admin) = keys.bootstrap_admin().await? {
        println!(
            "created the first key pair (user {}); keep it, it is shown only once:",
            admin.user_id
        );
        println!("access_key: {}", admin.access_key);
        println!("secret_key: {}", admin.secret_key);
    }
    let shutdown = CancellationToken::new();
    let mut tasks = Vec::new();

    let storage_addr = if config.storage.embedded {
        let listener = TcpListener::bind(&config.storage.listen)
            .await
            .with_context(|| format!("binding the storage address {}", config.storage.listen))?;
        let addr = listener.local_addr()?;
        // Workers reach the storage at the address really bound (the port may be 0).
        config.storage.listen = addr.to_string();
        println!("s3: http://{addr}");
        let root = config.data_dir.join("objects");
        let (keys, store, stop) = (keys.clone(), store.clone(), shutdown.clone());
        tasks.push(tokio::spawn(async move {
            if let Err(e) =
                crate::storage::embedded::serve(listener, &root, keys, store, stop).await
            {
                tracing::error!(error = %e, "embedded storage stopped");
            }
        }));
        Some(addr.to_string())
    } else {
        None
    };
    let config = Arc::new(config);
    let signals = Arc::new(JobSignals::default());

    let workers = if no_workers || config.worker.concurrency == 0 {
        Vec::new()
    } else {
        start_workers(WorkerContext {
            store: store.clone(),
            master: master.clone(),
            config: config.clone(),
            signals: signals.clone(),
            shutdown: shutdown.clone(),
        })
        .await?
    };

    let state = Arc::new(AppState {
        galleries: Galleries::new(store.clone(), master.clone(), config.clone()),
        jobs: JobsService {
            store,
            master_key: master,
            signals,
        },
        keys,
        limiter: api::auth::Limiter::new(
            config.api.rate_limit_per_second,
            config.api.rate_limit_burst,
        ),
        metrics: crate::telemetry::metrics_handle(),
        body_limit: config.api.body_limit_bytes,
        storage_addr,
    });
    let listener = TcpListener::bind(&config.api.listen)
        .await
        .with_context(|| format!("binding the API address {}", config.api.listen))?;
    println!("api: http://{}", listener.local_addr()?);
    tracing::info!(workers = workers.len(), "airscope is serving");

    let stop = shutdown.clone();
    axum::serve(listener, api::router(state))
        .with_graceful_shutdown(async move {
            wait_for_signal().await;
            tracing::info!("stopping: handing running jobs back");
            stop.cancel();
        })
        .await?;
    shutdown.cancel();
    join_for_a_while(workers.into_iter().chain(tasks).collect()).await;
    Ok(())
}

/// `airscope worker`: workers only, on the configured store and default storage.
pub async fn run_workers(config: Config) -> anyhow::Result<()> {
    if config.worker.concurrency == 0 {
        anyhow::bail!("worker.concurrency is 0: this process would do nothing");
    }
    let (store, master, _) = super::open_keys(&config).await?;
    let shutdown = CancellationToken::new();
    if let Some(addr) = &config.worker.metrics_listen {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the metrics address {addr}"))?;
        println!("metrics: http://{}/metrics", listener.local_addr()?);
        let stop = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, api::worker_router())
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        });
    }
    let workers = start_workers(WorkerContext {
        store,
        master,
        config: Arc::new(config),
        signals: Arc::new(JobSignals::default()),
        shutdown: shutdown.clone(),
    })
    .await?;
    println!("worker: {} job slots", workers.len() - 1);
    wait_for_signal().await;
    tracing::info!("stopping: handing running jobs back");
    shutdown.cancel();
    join_for_a_while(workers).await;
    Ok(())
}

/// The worker pool, woken by submissions made in this process and, where the store can tell,
/// in any other.
async fn start_workers(ctx: WorkerContext) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    ctx.store
        .watch_submissions(ctx.signals.work_available.clone())
        .await?;
    worker::spawn_pool(Arc::new(ctx)).context("the workers' scratch folder")
}

/// Let running jobs hand themselves back, but do not hang the exit on a stuck task.
async fn join_for_a_while(tasks: Vec<tokio::task::JoinHandle<()>>) {
    let all = futures::future::join_all(tasks);
    if tokio::time::timeout(Duration::from_secs(20), all)
        .await
        .is_err()
    {
        tracing::warn!("some tasks did not stop in time");
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
}
