//! Claim throughput of the store with no-op work: N workers (tasks sharing one store, as the
//! worker loops of one process do) claim a job, then record it completed, until the queue is
//! empty. Reports the best of `rounds` rounds (the machines are shared and noisy) and every
//! round, for each store URL given, side by side. On Postgres each round starts after a
//! `VACUUM`, the state autovacuum keeps a busy table in, so that rounds are comparable: the
//! previous round's 20,000 claimed jobs would otherwise still have entries at the head of
//! the queue index.
//!
//!   cargo bench --bench claims -- [--jobs N] [--workers W] [--rounds R] URL...
//!
//! `bench/fleet.sh` starts a throwaway Postgres and runs this against it and SQLite.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use airscope::jobs::{Destination, Source, Status};
use airscope::store::{self, Finish, NewJob, Store};
use sqlx::Connection;

const LEASE_MS: i64 = 30_000;

fn new_job(i: usize, users: usize) -> NewJob {
    NewJob {
        id: uuid::Uuid::now_v7().simple().to_string(),
        user_id: format!("user{}", i % users),
        name: format!("noop {i}"),
        batch: None,
        priority: 5,
        services: serde_json::json!({"pdf": {}}),
        source: Source {
            bucket: "media".into(),
            object_key: "a.pdf".into(),
            endpoint: None,
            region: None,
            provider: None,
        },
        destination: Destination {
            bucket: "results".into(),
            region: "us-east-1".into(),
            prefix: String::new(),
        },
        notification_url: None,
        notify_secret: None,
        secrets: vec![0; 60],
        created_ms: airscope::time::now_ms(),
    }
}

/// Claims and completes jobs until none is left; returns how many it did.
async fn worker(store: Arc<dyn Store>) -> usize {
    let mut done = 0;
    loop {
        let now = airscope::time::now_ms();
        let Some(claim) = store.claim(now, LEASE_MS, 3).await.expect("claim") else {
            return done;
        };
        let fin = Finish {
            status: Status::Completed,
            error: None,
            error_count: 0,
            output_path: Some("s3://results/x".into()),
        };
        assert!(store.finish(&claim.lease, &fin, now).await.expect("finish"));
        done += 1;
    }
}

/// One round: queue `jobs` jobs, then drain them with `workers` workers; returns
/// (claims per second, sequential inserts per second).
async fn round(store: &Arc<dyn Store>, jobs: usize, workers: usize) -> (f64, f64) {
    let t = Instant::now();
    for i in 0..jobs {
        store.insert_job(new_job(i, 2), None).await.expect("insert");
    }
    let submit = jobs as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| tokio::spawn(worker(store.clone())))
        .collect();
    let mut claimed = 0;
    for task in tasks {
        claimed += task.await.expect("worker task");
    }
    assert_eq!(claimed, jobs, "every job claimed exactly once");
    (jobs as f64 / t.elapsed().as_secs_f64(), submit)
}

async fn run(url: &str, jobs: usize, workers: usize, rounds: usize) {
    let store = store::open(url, Duration::from_secs(10))
        .await
        .expect("store opens");
    let mut claims = Vec::new();
    let mut inserts = Vec::new();
    for _ in 0..rounds {
        if url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::raw_sql("VACUUM jobs, fairness")
                .execute(&mut conn)
                .await
                .expect("vacuum");
        }
        let (c, i) = round(&store, jobs, workers).await;
        claims.push(c);
        inserts.push(i);
    }
    let best = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    let all = claims
        .iter()
        .map(|c| format!("{c:.0}"))
        .collect::<Vec<_>>()
        .join(", ");
    let scheme = url.split(':').next().unwrap_or(url);
    println!(
        "{scheme:<10} workers={workers} jobs={jobs}: claim+finish best {:>5.0} jobs/s \
         (rounds: {all}); sequential insert {:.0} jobs/s",
        best(&claims),
        best(&inserts)
    );
}

fn main() {
    let mut args = common::args().into_iter();
    let (mut jobs, mut workers, mut rounds, mut urls) = (20_000, 4, 3, Vec::new());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--jobs" => jobs = args.next().and_then(|v| v.parse().ok()).expect("--jobs N"),
            "--workers" => {
                workers = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--workers W")
            }
            "--rounds" => {
                rounds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--rounds R")
            }
            url => urls.push(url.to_string()),
        }
    }
    assert!(
        !urls.is_empty(),
        "usage: claims [--jobs N] [--workers W] [--rounds R] URL..."
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for url in urls {
        rt.block_on(run(&url, jobs, workers, rounds));
    }
}
