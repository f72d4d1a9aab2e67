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

/// An API-only node (embedded storage, no workers) on a fresh Postgres, with extra
/// `[worker]` settings for the tests' own processes to share.
fn api_node(worker_toml: &str) -> (postgres::Postgres, Server) {
    let pg = postgres::Postgres::start();
    let s = start(&format!(
        "[store]\nurl = \"{}\"\n[worker]\nconcurrency = 0\n{worker_toml}",
        pg.url
    ));
    (pg, s)
}

/// A user's completed and failed jobs; None while the API cannot reach the store.
async fn count_terminal(api: &Api, keys: &Keys) -> Option<(i64, i64)> {
    let mut counts = [0; 2];
    for (n, status) in counts.iter_mut().zip(["completed", "failed"]) {
        let r = api
            .get(&format!("/jobs?status={status}&pageSize=1"), keys)
            .await;
        *n = r.body["TotalRecords"].as_i64()?;
    }
    Some((counts[0], counts[1]))
}

/// Every job has exactly one metadata file in `bucket`.
fn one_file_per_job(s: &Server, keys: &Keys, bucket: &str, ids: &[String]) {
    let objects = s.list_objects(keys, bucket);
    assert_eq!(
        objects.len(),
        ids.len(),
        "exactly one metadata file per job"
    );
    for id in ids {
        assert_eq!(
            objects.iter().filter(|o| o.contains(id.as_str())).count(),
            1,
            "{id}"
        );
    }
}

/// Inodes of the files someone holds an flock on (read from /proc/locks, without taking any).
fn held_locks() -> Vec<u64> {
    std::fs::read_to_string("/proc/locks")
        .unwrap()
        .lines()
        .filter(|l| l.contains(" FLOCK "))
        .filter_map(|l| {
            l.split_whitespace()
                .nth(5)?
                .rsplit(':')
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

#[tokio::test]
async fn two_hundred_jobs_complete_exactly_once_while_workers_are_killed() {
    let (_pg, s) = api_node("lease_secs = 2\nmax_attempts = 20");
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
        let (done, failed) = count_terminal(&api, &alice).await.expect("the API answers");
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
    one_file_per_job(&s, &alice, "results", &ids);
    // The killed workers' folders are removed by the workers started after them: once the
    // last one is up, what is left is the three live workers' folders, each lock held.
    let tmp = s.data_dir().join("tmp");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut left: Vec<String> = std::fs::read_dir(&tmp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let held = held_locks();
        let settled = left.len() == 6
            && left.chunks(2).all(|pair| {
                use std::os::unix::fs::MetadataExt;
                let lock = tmp.join(&pair[1]);
                pair[0].starts_with("worker-")
                    && pair[1] == format!("{}.lock", pair[0])
                    && std::fs::metadata(lock).is_ok_and(|m| held.contains(&m.ino()))
            });
        if settled {
            break;
        }
        assert!(Instant::now() < deadline, "{left:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_paused_worker_cannot_write_its_stale_result() {
    let (_pg, s) = api_node("lease_secs = 2");
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

#[tokio::test]
async fn a_postgres_restart_mid_run_loses_and_duplicates_nothing() {
    let (pg, s) = api_node("");
    let alice = s.create_key("alice", false);
    s.upload(&alice, "media", "report.pdf", &fixture("report.pdf"));
    let _ = s.aws(&alice, &["s3", "mb", "s3://results"]);
    let env = [("AIRSCOPE_WORKER__CONCURRENCY", "2")];
    let _fleet = Fleet((0..2).map(|_| spawn_worker(&s, &env)).collect());
    let api = s.client();
    let mut ids = Vec::new();
    for i in 0..80 {
        let body = job_body(&format!("restart {i}"), "media", "report.pdf", "results");
        ids.push(api.submit(&alice, &body).await);
    }
    // Crash the database while jobs are running, and keep it down for 3 s.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (done, _) = count_terminal(&api, &alice).await.unwrap();
        if done >= 5 {
            assert!(done < 80, "the restart must come while jobs remain");
            break;
        }
        assert!(Instant::now() < deadline, "no job completed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pg.crash_and_restart(Duration::from_secs(3));
    // The API answers 503 until its pool reconnects; the workers reconnect and finish the rest.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let counts = count_terminal(&api, &alice).await;
        if let Some((done, failed)) = counts {
            assert_eq!(failed, 0, "no job may fail");
            if done == 80 {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "not all 80 completed: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    one_file_per_job(&s, &alice, "results", &ids);
    // Submissions work again, and LISTEN was re-established: a new job is picked up.
    let id = api
        .submit(&alice, &job_body("after", "media", "report.pdf", "results"))
        .await;
    let job = api.wait_for(&alice, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "completed", "{job}");
}

/// All of a user's jobs, sorted by when they started.
async fn start_order(api: &Api, keys: &Keys) -> Vec<serde_json::Value> {
    let mut jobs = Vec::new();
    for page in 1.. {
        let r = api
            .get(&format!("/jobs?pageSize=100&pageNumber={page}"), keys)
            .await;
        let records = r.body["Records"].as_array().unwrap();
        if records.is_empty() {
            break;
        }
        jobs.extend(records.iter().cloned());
    }
    jobs.sort_by_key(|j| j["Started"].as_str().unwrap_or("~").to_string());
    jobs
}

#[tokio::test]
async fn priority_and_fairness_hold_across_worker_processes() {
    let (_pg, s) = api_node("");
    let alice = s.create_key("alice", false);
    let bob = s.create_key("bob", false);
    for keys in [&alice, &bob] {
        let bucket = format!("media-{}", keys.user);
        s.upload(keys, &bucket, "report.pdf", &fixture("report.pdf"));
        let _ = s.aws(keys, &["s3", "mb", &format!("s3://results-{}", keys.user)]);
    }
    let api = s.client();
    let submit = |keys: &'static str, name: String, priority: i64| {
        let mut body = job_body(
            &name,
            &format!("media-{keys}"),
            "report.pdf",
            &format!("results-{keys}"),
        );
        body["Priority"] = priority.into();
        body
    };

    // Two users' batches, queued one after the other before any worker runs.
    for i in 0..20 {
        api.submit(&alice, &submit("alice", format!("a{i}"), 5))
            .await;
    }
    for i in 0..20 {
        api.submit(&bob, &submit("bob", format!("b{i}"), 5)).await;
    }
    let env = [("AIRSCOPE_WORKER__CONCURRENCY", "1")];
    let fleet = Fleet((0..2).map(|_| spawn_worker(&s, &env)).collect());
    let deadline = Instant::now() + Duration::from_secs(120);
    while count_terminal(&api, &alice).await.unwrap().0
        + count_terminal(&api, &bob).await.unwrap().0
        < 40
    {
        assert!(Instant::now() < deadline, "the batches did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut all = start_order(&api, &alice).await;
    all.extend(start_order(&api, &bob).await);
    all.sort_by_key(|j| j["Started"].as_str().unwrap().to_string());
    let first: Vec<&str> = all[..20]
        .iter()
        .map(|j| j["UserId"].as_str().unwrap())
        .collect();
    let alices = first.iter().filter(|u| **u == "alice").count();
    eprintln!("first 20 to start: {first:?}");
    assert!(
        (8..=12).contains(&alices),
        "the first 20 jobs to start interleave both users: {first:?}"
    );
    drop(fleet);

    // 100 priority-5 jobs queued, workers busy with them; a priority-10 job jumps the queue.
    for i in 0..100 {
        api.submit(&alice, &submit("alice", format!("p5-{i}"), 5))
            .await;
    }
    let fleet = Fleet((0..2).map(|_| spawn_worker(&s, &env)).collect());
    let deadline = Instant::now() + Duration::from_secs(120);
    while count_terminal(&api, &alice).await.unwrap().0 < 20 + 5 {
        assert!(Instant::now() < deadline, "the priority-5 jobs do not run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let urgent = api
        .submit(&alice, &submit("alice", "urgent".into(), 10))
        .await;
    let listed = api
        .get("/jobs?status=submitted&pageSize=1", &alice)
        .await
        .body["TotalRecords"]
        .as_i64()
        .unwrap();
    let job = api
        .wait_for(&alice, &urgent, &["completed", "failed"])
        .await;
    assert_eq!(job["Status"], "completed");
    drop(fleet);
    // Every priority-5 job still queued when the urgent one was submitted started after it
    // (one claim per worker may have been under way).
    let started_before = start_order(&api, &alice)
        .await
        .iter()
        .filter(|j| j["Name"].as_str().unwrap().starts_with("p5-"))
        .filter(|j| {
            j["Started"]
                .as_str()
                .is_some_and(|t| t < job["Started"].as_str().unwrap())
        })
        .count() as i64;
    let queued_behind = listed - 1;
    eprintln!("urgent job: {started_before} priority-5 jobs started before it, {queued_behind} queued behind it");
    assert!(
        started_before <= 100 - queued_behind + 2,
        "{started_before} priority-5 jobs started before the urgent one; {queued_behind} were still queued at its submission"
    );
}
