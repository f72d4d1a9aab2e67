//! Claim throughput of the store with no-op work: N workers (tasks sharing one store, as the
//! worker loops of one process do) claim a job, then record it completed, until the queue is
//! empty. Reports jobs/s for each store URL given, side by side.
//!
//!   cargo bench --bench claims -- [--jobs N] [--workers W] URL...
//!
//! `bench/fleet.sh` starts a throwaway Postgres and runs this against it and SQLite.

use std::sync::Arc;
use std::time::{Duration, Instant};

use airscope::jobs::{Destination, Source, Status};
use airscope::store::{self, Finish, NewJob, Store};

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

async fn run(url: &str, jobs: usize, workers: usize) {
    let store = store::open(url, Duration::from_secs(10))
        .await
        .expect("store opens");
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
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(claimed, jobs, "every job claimed exactly once");
    let scheme = url.split(':').next().unwrap_or(url);
    println!(
        "{scheme:<10} workers={workers} jobs={jobs}: claim+finish {:>7.0} jobs/s ({:.2} s); \
         sequential insert {submit:.0} jobs/s",
        jobs as f64 / secs,
        secs
    );
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let (mut jobs, mut workers, mut urls) = (20_000, 4, Vec::new());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--jobs" => jobs = args.next().and_then(|v| v.parse().ok()).expect("--jobs N"),
            "--workers" => {
                workers = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--workers W")
            }
            url => urls.push(url.to_string()),
        }
    }
    assert!(
        !urls.is_empty(),
        "usage: claims [--jobs N] [--workers W] URL..."
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for url in urls {
        rt.block_on(run(&url, jobs, workers));
    }
}
