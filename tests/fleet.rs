//! Fleets on Postgres: separate worker processes under fire.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A worker process on the server's store and storage.
fn spawn_worker(s: &Server, extra_env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(["--config", s.config.to_str().unwrap(), "worker"])
        .env("AIRSCOPE_STORAGE__ENDPOINT", &s.s3)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn signal(child: &Child, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

struct Fleet(Vec<Child>);

impl Drop for Fleet {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

async fn count_terminal(api: &Api, keys: &Keys) -> (i64, i64) {
    let done = api
        .get("/jobs?status=completed&pageSize=1", keys)
        .await
        .body["TotalRecords"]
        .as_i64()
        .unwrap();
    let failed = api.get("/jobs?status=failed&pageSize=1", keys).await.body["TotalRecords"]
        .as_i64()
        .unwrap();
    (done, failed)
}

#[tokio::test]
async fn two_hundred_jobs_complete_exactly_once_while_workers_are_killed() {
    let pg = postgres::Postgres::start();
    let s = start(&format!(
        "[store]\nurl = \"{}\"\n[worker]\nconcurrency = 0\nlease_secs = 2\nmax_attempts = 20",
        pg.url
    ));
    let alice = s.create_key("alice", false);
    s.upload(&alice, "media", "report.pdf", &fixture("report.pdf"));
    let _ = s.aws(&alice, &["s3", "mb", "s3://results"]);
    let env = [
        ("AIRSCOPE_WORKER__CONCURRENCY", "2"),
        ("AIRSCOPE_WORKER__LEASE_SECS", "2"),
        ("AIRSCOPE_WORKER__MAX_ATTEMPTS", "20"),
    ];
    let mut fleet = Fleet((0..3).map(|_| spawn_worker(&s, &env)).collect());
    let api = s.client();
    let mut ids = Vec::new();
    for i in 0..200 {
        let body = job_body(&format!("chaos {i}"), "media", "report.pdf", "results");
        ids.push(api.submit(&alice, &body).await);
    }
    // Kill a random worker with SIGKILL every 1.5 s and start a new one in its place.
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut kills = 0;
    let mut seed = 7u64;
    loop {
        let (done, failed) = count_terminal(&api, &alice).await;
        assert_eq!(failed, 0, "no job may fail");
        if done == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "only {done} of 200 completed");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let victim = (seed >> 33) as usize % fleet.0.len();
        fleet.0[victim].kill().unwrap();
        fleet.0[victim].wait().unwrap();
        fleet.0[victim] = spawn_worker(&s, &env);
        kills += 1;
    }
    assert!(kills >= 2, "the chaos loop ran ({kills} kills)");
    // One metadata file per job, each where the job says it is.
    let objects = s.list_objects(&alice, "results");
    assert_eq!(objects.len(), 200, "exactly one metadata file per job");
    for id in &ids {
        assert_eq!(
            objects.iter().filter(|o| o.contains(id.as_str())).count(),
            1,
            "{id}"
        );
    }
}

#[tokio::test]
async fn a_paused_worker_cannot_write_its_stale_result() {
    let pg = postgres::Postgres::start();
    let s = start(&format!(
        "[store]\nurl = \"{}\"\n[worker]\nconcurrency = 0\nlease_secs = 2",
        pg.url
    ));
    let alice = s.create_key("alice", false);
    let long = s.dir.path().join("long.pdf");
    std::fs::write(&long, long_pdf(30000)).unwrap();
    s.upload(&alice, "media", "long.pdf", &long);
    let _ = s.aws(&alice, &["s3", "mb", "s3://results"]);
    let env = [
        ("AIRSCOPE_WORKER__CONCURRENCY", "1"),
        ("AIRSCOPE_WORKER__LEASE_SECS", "2"),
    ];
    let mut fleet = Fleet(vec![spawn_worker(&s, &env)]);
    let api = s.client();
    let mut body = job_body("paused", "media", "long.pdf", "results");
    body["Services"] = serde_json::json!({"pdf": {"config": {"max_pages": 30000}}});
    let id = api.submit(&alice, &body).await;
    api.wait_for(&alice, &id, &["in_progress"]).await;
    // Freeze the worker past its lease; a second worker takes the job over and finishes it.
    signal(&fleet.0[0], "-STOP");
    tokio::time::sleep(Duration::from_secs(3)).await;
    fleet.0.push(spawn_worker(&s, &env));
    let job = api.wait_for(&alice, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "completed");
    // Thaw the stale worker and give it every chance to write.
    signal(&fleet.0[0], "-CONT");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let objects = s.list_objects(&alice, "results");
    assert_eq!(objects.len(), 1, "{objects:?}");
    let after = api.get(&format!("/jobs/{id}"), &alice).await.body;
    assert_eq!(
        after["Completed"], job["Completed"],
        "the outcome was not rewritten"
    );
}
