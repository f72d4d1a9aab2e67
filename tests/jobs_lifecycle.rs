//! Lifecycle under faults: cancels, preflight failures, crashes, retries, secrets, and the
//! storage boundary.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

/// A document large enough that extracting it takes a while (the job stays in progress).
fn write_long_pdf(s: &Server, pages: usize) -> std::path::PathBuf {
    let path = s.dir.path().join("long.pdf");
    std::fs::write(&path, long_pdf(pages)).unwrap();
    path
}

/// A job that reads every page of a long document.
fn long_job(key: &str, pages: u32) -> serde_json::Value {
    let mut body = job_body("long", "media", key, "results");
    body["Services"] = json!({"pdf": {"config": {"max_pages": pages}}});
    body
}

#[tokio::test]
async fn preflight_failures_end_failed_with_a_precise_reason() {
    let s = start("[limits]\nmax_source_bytes = 100000");
    let alice = s.create_key("alice", false);
    let api = s.client();
    let dir = s.dir.path();
    std::fs::write(dir.join("empty.pdf"), b"").unwrap();
    std::fs::write(
        dir.join("notes.pdf"),
        b"just some plain text pretending to be a PDF",
    )
    .unwrap();
    std::fs::write(dir.join("big.pdf"), long_pdf(2000)).unwrap();
    std::fs::write(
        dir.join("archive.pdf"),
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00zipzipzipzipzip",
    )
    .unwrap();
    s.upload(&alice, "media", "empty.pdf", &dir.join("empty.pdf"));
    s.upload(&alice, "media", "notes.pdf", &dir.join("notes.pdf"));
    s.upload(&alice, "media", "archive.pdf", &dir.join("archive.pdf"));
    s.upload(&alice, "media", "big.pdf", &dir.join("big.pdf"));
    s.upload(&alice, "media", "truncated.pdf", &fixture("truncated.pdf"));
    s.upload(&alice, "media", "encrypted.pdf", &fixture("encrypted.pdf"));
    s.upload(&alice, "media", "zero.pdf", &fixture("zero_pages.pdf"));
    let _ = s.aws(&alice, &["s3", "mb", "s3://results"]);
    let cases = [
        ("missing.pdf", "not found"),
        ("empty.pdf", "empty (0 bytes)"),
        ("notes.pdf", "unsupported media type"),
        ("archive.pdf", "unsupported media type: application/zip"),
        ("big.pdf", "over the limit of 100000 bytes"),
        ("truncated.pdf", "not a valid PDF"),
        ("encrypted.pdf", "encrypted"),
        ("zero.pdf", "no pages"),
    ];
    let mut ids = Vec::new();
    for (key, _) in &cases {
        ids.push(
            api.submit(&alice, &job_body(key, "media", key, "results"))
                .await,
        );
    }
    for ((key, reason), id) in cases.iter().zip(&ids) {
        let job = api.wait_for(&alice, id, &["completed", "failed"]).await;
        assert_eq!(job["Status"], "failed", "{key}: {job}");
        let err = job["Error"].as_str().unwrap();
        assert!(err.contains(reason), "{key}: `{err}` lacks `{reason}`");
        assert!(job["Completed"].is_string());
        let r = api.get(&format!("/jobs/{id}/metadata"), &alice).await;
        assert_eq!(r.status, 404);
    }
    // A missing bucket is a permanent fault too.
    let id = api
        .submit(
            &alice,
            &job_body("nobucket", "no-such-bucket", "a.pdf", "results"),
        )
        .await;
    let job = api.wait_for(&alice, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "failed");
    assert!(
        s.list_objects(&alice, "results").is_empty(),
        "failed preflights write nothing"
    );
}

#[tokio::test]
async fn cancel_in_each_state() {
    let s = start("");
    let alice = s.create_key("alice", false);
    let api = s.client();
    let long = write_long_pdf(&s, 30000);
    s.upload(&alice, "media", "long.pdf", &long);
    s.upload(&alice, "media", "report.pdf", &fixture("report.pdf"));
    let _ = s.aws(&alice, &["s3", "mb", "s3://results"]);

    // Running: cancel while the document is being read.
    let id = api.submit(&alice, &long_job("long.pdf", 30000)).await;
    api.wait_for(&alice, &id, &["in_progress"]).await;
    // Progress moves while the pages are read.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let job = api.get(&format!("/jobs/{id}"), &alice).await.body;
        let p = job["Progress"].as_i64().unwrap();
        if p > 10 {
            assert!(p < 100 && job["Status"] == "in_progress", "{job}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "progress stuck at {p}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = api
        .post(&format!("/jobs/{id}/cancel"), &alice, &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["Status"], "cancelled");
    assert!(r.body["Completed"].is_string());
    // Terminal now: a second cancel is a conflict.
    let r = api
        .post(&format!("/jobs/{id}/cancel"), &alice, &json!({}))
        .await;
    assert_eq!(
        (r.status, r.body["ErrorCode"].as_str()),
        (409, Some("INVALID_STATE"))
    );
    // The worker noticed and stopped: the next job runs and completes.
    let next = api
        .submit(&alice, &job_body("after", "media", "report.pdf", "results"))
        .await;
    let job = api.wait_for(&alice, &next, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "completed");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let written = s.list_objects(&alice, "results");
    assert_eq!(written.len(), 1, "only the second job wrote: {written:?}");
    assert!(written[0].contains(&next));
    assert_eq!(
        api.get(&format!("/jobs/{id}"), &alice).await.body["Status"],
        "cancelled"
    );
    assert!(
        s.logs().contains("attempt ended"),
        "the cancelled attempt stopped"
    );

    // Completed: conflict.
    let r = api
        .post(&format!("/jobs/{next}/cancel"), &alice, &json!({}))
        .await;
    assert_eq!(r.status, 409);
    assert!(r.body["Error"].as_str().unwrap().contains("completed"));
}

#[tokio::test]
async fn cancel_a_queued_job() {
    let s = start("[worker]\nconcurrency = 0");
    let alice = s.create_key("alice", false);
    let api = s.client();
    let id = api
        .submit(&alice, &job_body("queued", "media", "a.pdf", "results"))
        .await;
    let r = api
        .post(&format!("/jobs/{id}/cancel"), &alice, &json!({}))
        .await;
    assert_eq!(
        (r.status, r.body["Status"].as_str()),
        (200, Some("cancelled"))
    );
    let r = api.get(&format!("/jobs/{id}/status"), &alice).await;
    assert_eq!(r.body["Status"], "cancelled");
}

#[tokio::test]
async fn kill_9_mid_job_then_restart_completes_exactly_once() {
    let s0 = start("[worker]\nlease_secs = 2\nconcurrency = 1");
    let mut s = s0;
    let alice = s.create_key("alice", false);
    let long = write_long_pdf(&s, 20000);
    s.upload(&alice, "media", "long.pdf", &long);
    let _ = s.aws(&alice, &["s3", "mb", "s3://results"]);
    let api = s.client();
    let id = api.submit(&alice, &long_job("long.pdf", 20000)).await;
    api.wait_for(&alice, &id, &["in_progress"]).await;
    s.kill9();
    s.spawn();
    let api = s.client();
    let job = api.wait_for(&alice, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "completed", "{job}");
    let objects = s.list_objects(&alice, "results");
    assert_eq!(objects.len(), 1, "{objects:?}");
    let doc = s.metadata(&alice, &id).await;
    assert_eq!(doc["message_payload"]["pdf"]["page_count"], 20000);
    assert_eq!(
        doc["message_payload"]["pdf"]["pages"][19999]["text"],
        "Page 20000 of the long document"
    );
    assert!(s.logs().contains("recovered a job whose lease expired"));
}

#[tokio::test]
async fn secrets_never_leak() {
    let s = start("");
    let alice = s.create_key("alice", false);
    let source_keys = s.create_key("alice", false);
    s.upload(&alice, "media", "report.pdf", &fixture("report.pdf"));
    let _ = s.aws(&alice, &["s3", "mb", "s3://results"]);
    let api = s.client();
    let mut body = job_body("with keys", "media", "report.pdf", "results");
    body["Source"]["AccessKey"] = json!(source_keys.access);
    body["Source"]["SecretKey"] = json!(source_keys.secret);
    let r = api.post("/jobs", &alice, &body).await;
    assert_eq!(r.status, 200);
    assert!(!r.text.contains(&source_keys.secret) && !r.text.contains(&alice.secret));
    let id = r.body["Job"]["Id"].as_str().unwrap().to_string();
    let job = api.wait_for(&alice, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "completed", "{job}");
    let listed = api.get("/jobs", &alice).await.text;
    let file = s.metadata(&alice, &id).await.to_string();
    let logs = s.logs();
    for secret in [&source_keys.secret, &alice.secret] {
        for (what, text) in [
            ("job", job.to_string()),
            ("list", listed.clone()),
            ("metadata", file.clone()),
            ("log", logs.clone()),
            ("stdout", s.stdout.clone()),
        ] {
            assert!(!text.contains(secret.as_str()), "secret found in {what}");
        }
    }
    // Erased from the store once terminal.
    let db = s.data_dir().join("airscope.db");
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT COUNT(*) FROM jobs WHERE secrets IS NOT NULL")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    let raw = std::fs::read(&db).unwrap();
    let needle = source_keys.secret.as_bytes();
    assert!(
        !raw.windows(needle.len()).any(|w| w == needle),
        "plain secret in the database file"
    );
}

#[tokio::test]
async fn internal_endpoints_are_refused() {
    let s = start("");
    let alice = s.create_key("alice", false);
    let api = s.client();
    let port = s.s3.rsplit(':').next().unwrap().to_string();
    for endpoint in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        "http://169.254.169.254".to_string(),
        "http://10.0.0.8:9000".to_string(),
        "http://[::1]:9000".to_string(),
    ] {
        let mut body = job_body("ssrf", "media", "report.pdf", "results");
        body["Source"]["Endpoint"] = json!(endpoint);
        body["Source"]["AccessKey"] = json!(alice.access);
        body["Source"]["SecretKey"] = json!(alice.secret);
        let id = api.submit(&alice, &body).await;
        let job = api.wait_for(&alice, &id, &["completed", "failed"]).await;
        assert_eq!(job["Status"], "failed", "{endpoint}: {job}");
        let err = job["Error"].as_str().unwrap();
        assert!(
            err.contains("private, loopback or link-local"),
            "{endpoint}: {err}"
        );
    }
}

#[tokio::test]
async fn transient_storage_faults_are_retried_then_fail() {
    // An endpoint nobody listens on: every attempt meets a connection error.
    let s = start("[storage]\nallow_private_endpoints = true\nmax_retries = 0\n[worker]\nmax_attempts = 3\nretry_backoff_ms = 100");
    let alice = s.create_key("alice", false);
    let api = s.client();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut body = job_body("flaky", "media", "report.pdf", "results");
    body["Source"]["Endpoint"] = json!(format!("http://127.0.0.1:{port}"));
    body["Source"]["AccessKey"] = json!("A");
    body["Source"]["SecretKey"] = json!("B");
    let id = api.submit(&alice, &body).await;
    let job = api.wait_for(&alice, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "failed");
    let err = job["Error"].as_str().unwrap();
    assert!(err.contains("gave up after 3 attempts"), "{err}");
    assert_eq!(
        s.logs().matches("transient fault, retrying later").count(),
        2
    );
}

#[tokio::test]
async fn embedded_storage_keeps_users_apart() {
    let s = start("[worker]\nconcurrency = 0");
    let alice = s.create_key("alice", false);
    let bob = s.create_key("bob", false);
    let viewer = s.create_key("alice", true);
    s.upload(&alice, "alice-media", "report.pdf", &fixture("report.pdf"));
    let out = s.aws(&bob, &["s3", "cp", "s3://alice-media/report.pdf", "-"]);
    assert!(!out.status.success());
    let out = s.aws(
        &bob,
        &[
            "s3",
            "cp",
            &fixture("report.pdf").to_string_lossy(),
            "s3://alice-media/x.pdf",
        ],
    );
    assert!(!out.status.success());
    // A view-only key of the owner reads but cannot write.
    s.aws_ok(
        &viewer,
        &["s3", "cp", "s3://alice-media/report.pdf", "/dev/null"],
    );
    let out = s.aws(
        &viewer,
        &[
            "s3",
            "cp",
            &fixture("report.pdf").to_string_lossy(),
            "s3://alice-media/y.pdf",
        ],
    );
    assert!(!out.status.success());
    let bad = Keys {
        secret: "wrong".into(),
        ..alice.clone()
    };
    assert!(!s
        .aws(&bad, &["s3", "ls", "s3://alice-media"])
        .status
        .success());
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_sent_for_every_terminal_status() {
    use std::sync::{Arc, Mutex};

    use axum::http::{HeaderMap, StatusCode};

    type Seen = Arc<Mutex<Vec<(HeaderMap, String)>>>;
    let seen: Seen = Arc::default();
    let receiver = {
        let seen = seen.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let seen = seen.clone();
                async move {
                    let mut all = seen.lock().unwrap();
                    let first = !all
                        .iter()
                        .any(|(h, _)| h["x-airscope-job-id"] == headers["x-airscope-job-id"]);
                    all.push((headers, body));
                    // Fail every job's first delivery: it must be retried.
                    if first {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    // The receiver is on loopback, so this server allows private endpoints.
    let s = start("[storage]\nallow_private_endpoints = true");
    let alice = s.create_key("alice", false);
    s.upload(&alice, "media", "report.pdf", &fixture("report.pdf"));
    let long = write_long_pdf(&s, 30000);
    s.upload(&alice, "media", "long.pdf", &long);
    let _ = s.aws(&alice, &["s3", "mb", "s3://results"]);
    let api = s.client();
    let with_hook = |mut body: serde_json::Value| {
        body["Notification"] = json!({"Url": url, "Secret": "whsec-test"});
        body
    };
    let ok = api
        .submit(
            &alice,
            &with_hook(job_body("ok", "media", "report.pdf", "results")),
        )
        .await;
    let bad = api
        .submit(
            &alice,
            &with_hook(job_body("bad", "media", "missing.pdf", "results")),
        )
        .await;
    let cancelled = api
        .submit(&alice, &with_hook(long_job("long.pdf", 30000)))
        .await;
    api.wait_for(&alice, &cancelled, &["in_progress"]).await;
    api.post(&format!("/jobs/{cancelled}/cancel"), &alice, &json!({}))
        .await;

    let expected = [
        (&ok, "completed"),
        (&bad, "failed"),
        (&cancelled, "cancelled"),
    ];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let delivered = {
            let all = seen.lock().unwrap();
            expected.iter().all(|(id, _)| {
                all.iter()
                    .filter(|(h, _)| h["x-airscope-job-id"] == id.as_str())
                    .count()
                    >= 2
            })
        };
        if delivered {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "webhooks not delivered: {:?}",
            seen.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let all = seen.lock().unwrap().clone();
    for (id, status) in expected {
        let calls: Vec<_> = all
            .iter()
            .filter(|(h, _)| h["x-airscope-job-id"] == id.as_str())
            .collect();
        assert_eq!(
            calls.len(),
            2,
            "one failed delivery, one retry for {status}"
        );
        for (headers, body) in calls {
            let sig = headers["x-airscope-signature"].to_str().unwrap();
            assert_eq!(
                sig,
                airscope::worker::webhooks::signature(b"whsec-test", body)
            );
            assert_eq!(
                headers["x-airscope-event"],
                format!("job.{status}").as_str()
            );
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(
                (v["Id"].as_str(), v["Status"].as_str()),
                (Some(id.as_str()), Some(status))
            );
            assert!(!body.contains("whsec-test") && !body.contains(&alice.secret));
        }
    }
    let done: serde_json::Value = serde_json::from_str(
        &all.iter()
            .find(|(h, _)| h["x-airscope-job-id"] == ok.as_str())
            .unwrap()
            .1,
    )
    .unwrap();
    assert!(done["DestinationPath"]
        .as_str()
        .unwrap()
        .starts_with("s3://results/jobs/"));
    let failed: serde_json::Value = serde_json::from_str(
        &all.iter()
            .find(|(h, _)| h["x-airscope-job-id"] == bad.as_str())
            .unwrap()
            .1,
    )
    .unwrap();
    assert!(failed["Error"].as_str().unwrap().contains("not found"));
}
