//! The jobs API driven as a user drives it: the real binary, the AWS CLI for S3, HTTP for jobs.

mod common;

use common::*;
use serde_json::{json, Value};

fn pages_text(doc: &Value) -> Vec<String> {
    doc["message_payload"]["pdf"]["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pdf_job_end_to_end_writes_valid_metadata() {
    let s = start("");
    let alice = s.create_key("alice", false);
    s.upload(
        &alice,
        "media",
        "docs/Quarterly Report.pdf",
        &fixture("report.pdf"),
    );
    let _ = s.aws(&alice, &["s3", "mb", "s3://results"]);
    let api = s.client();
    let id = api
        .submit(
            &alice,
            &job_body("report", "media", "docs/Quarterly Report.pdf", "results"),
        )
        .await;
    assert_eq!(id.len(), 32);
    let job = api.wait_for(&alice, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "completed", "{job}");
    assert_eq!(job["UserId"], "alice");
    assert_eq!(job["ErrorCount"], 0);
    assert!(job["Completed"].as_str().unwrap().ends_with('Z'));

    let st = api.get(&format!("/jobs/{id}/status"), &alice).await;
    assert_eq!(
        st.body,
        json!({"Id": id, "Status": "completed", "ErrorCount": 0})
    );

    let meta = api.get(&format!("/jobs/{id}/metadata"), &alice).await;
    assert_eq!(meta.status, 200);
    let path = meta.body["DestinationPath"].as_str().unwrap().to_string();
    let date = &job["Completed"].as_str().unwrap()[..10].replace('-', "_");
    assert_eq!(
        path,
        format!("s3://results/jobs/{date}/{id}/Quarterly Report_metadata.json")
    );
    assert_eq!(
        meta.body["Destination"],
        json!({"Bucket": "results", "Region": "us-east-1"})
    );

    let doc = s.download_json(&alice, &path);
    airscope::output::validate(&doc).unwrap();
    assert_eq!(doc["message"], "Processing successful");
    let jm = &doc["message_payload"]["job_metadata"];
    assert_eq!(jm["object_path"], "s3://media/docs/Quarterly Report.pdf");
    assert_eq!(jm["destination_path"], path.as_str());
    assert_eq!(jm["output_destination"], format!("jobs/{date}/{id}"));
    let pdf = &doc["message_payload"]["pdf"];
    assert_eq!(pdf["page_count"], 2);
    assert_eq!(pdf["info"]["title"], "Quarterly Report");
    assert_eq!(pdf["info"]["author"], "Airscope Fixtures");
    assert_eq!(
        pages_text(&doc),
        vec![
            "Quarterly Report\nRevenue grew by 12 percent in the third quarter.\nThe board approved the new archive budget.",
            "Second Page\nBroadcast schedule for Monday and Tuesday.\nAll times are given in UTC.",
        ]
    );
    let page = &pdf["pages"][0];
    assert_eq!(
        (page["width"].as_f64(), page["height"].as_f64()),
        (Some(595.28), Some(841.89))
    );
    let tm = &doc["message_payload"]["technical_metadata"];
    assert_eq!(tm["media_type"], "document");
    assert_eq!(
        tm["size_bytes"],
        std::fs::metadata(fixture("report.pdf")).unwrap().len()
    );
    // Exactly one object written, in the documented folder.
    assert_eq!(s.list_objects(&alice, "results").len(), 1);
}

#[tokio::test]
async fn authentication_and_roles() {
    let s = start("");
    let alice = s.create_key("alice", false);
    let viewer = s.create_key("alice", true);
    let api = s.client();
    let body = job_body("x", "media", "a.pdf", "results");

    let r = api.call("GET", "/jobs", None, None, &[]).await;
    assert_eq!(
        (r.status, r.body["ErrorCode"].as_str()),
        (401, Some("UNAUTHORIZED"))
    );
    assert!(r.body["Error"].is_string());
    let wrong = Keys {
        secret: "nope".into(),
        ..alice.clone()
    };
    assert_eq!(api.get("/jobs", &wrong).await.status, 401);
    let unknown = Keys {
        access: "NOSUCHKEY".into(),
        ..alice.clone()
    };
    assert_eq!(api.get("/jobs", &unknown).await.status, 401);
    // The Authorization: AK:SK form.
    let auth = format!("{}:{}", alice.access, alice.secret);
    let r = api
        .call("GET", "/jobs", None, None, &[("authorization", &auth)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let id = api.submit(&alice, &body).await;
    // A view-only key of the same user reads but cannot write.
    assert_eq!(api.get(&format!("/jobs/{id}"), &viewer).await.status, 200);
    let r = api.post("/jobs", &viewer, &body).await;
    assert_eq!(
        (r.status, r.body["ErrorCode"].as_str()),
        (403, Some("FORBIDDEN"))
    );
    let r = api
        .post(&format!("/jobs/{id}/cancel"), &viewer, &json!({}))
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn users_see_only_their_own_jobs() {
    let s = start("[worker]\nconcurrency = 0");
    let alice = s.create_key("alice", false);
    let bob = s.create_key("bob", false);
    let api = s.client();
    let id = api
        .submit(&alice, &job_body("mine", "media", "a.pdf", "results"))
        .await;
    for path in [
        format!("/jobs/{id}"),
        format!("/jobs/{id}/status"),
        format!("/jobs/{id}/metadata"),
    ] {
        let r = api.get(&path, &bob).await;
        assert_eq!(
            (r.status, r.body["ErrorCode"].as_str()),
            (404, Some("NOT_FOUND")),
            "{path}"
        );
    }
    let r = api
        .post(&format!("/jobs/{id}/cancel"), &bob, &json!({}))
        .await;
    assert_eq!(r.status, 404);
    let r = api.get("/jobs", &bob).await;
    assert_eq!(r.body["TotalRecords"], 0);
    // Metadata of a job that is not completed is 404 too, for its owner.
    let r = api.get(&format!("/jobs/{id}/metadata"), &alice).await;
    assert_eq!(r.status, 404);
    let r = api.get("/jobs/zzz", &alice).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn submission_rules_name_the_field() {
    let s = start("[worker]\nconcurrency = 0");
    let alice = s.create_key("alice", false);
    let api = s.client();
    let base = job_body("x", "media", "a.pdf", "results");
    // The base body with the field at `path` ("A.B") set to `v`, or removed when `v` is null.
    let patched = |path: &str, v: Value| {
        let mut b = base.clone();
        let (parent, last) = match path.rsplit_once('.') {
            Some((p, l)) => (p.split('.').fold(&mut b, |o, k| &mut o[k]), l),
            None => (&mut b, path),
        };
        if v.is_null() {
            parent.as_object_mut().unwrap().remove(last);
        } else {
            parent[last] = v;
        }
        b
    };
    let invalid = "VALIDATION_ERROR";
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({}), invalid, "Name"),
        (patched("Name", json!("")), invalid, "Name"),
        (patched("Name", json!("x".repeat(257))), invalid, "Name"),
        (patched("Priority", json!(0)), invalid, "Priority"),
        (patched("Priority", json!(11)), invalid, "Priority"),
        (patched("Batch", json!("b".repeat(257))), invalid, "Batch"),
        (patched("Services", Value::Null), invalid, "Services"),
        (patched("Services", json!({})), invalid, "Services"),
        (
            patched("Services", json!({"teleport": ""})),
            "UNSUPPORTED_SERVICE",
            "teleport",
        ),
        (
            patched("Services", json!({"pdf": {"config": {"pages": 1}}})),
            invalid,
            "pages",
        ),
        (
            patched("Services", json!({"pdf": {"config": {"max_pages": 0}}})),
            invalid,
            "max_pages",
        ),
        (
            patched("Services", json!({"pdf": {"config": {"ocr": "maybe"}}})),
            invalid,
            "ocr",
        ),
        (
            patched("Source", json!({"Bucket": "media"})),
            invalid,
            "Source.ObjectKey",
        ),
        (
            patched("Source.Bucket", json!("No_Such")),
            invalid,
            "Source.Bucket",
        ),
        (
            patched("Source.AccessKey", json!("AK")),
            invalid,
            "SecretKey",
        ),
        (patched("Source.Colour", json!("red")), invalid, "Colour"),
        (
            patched("Destination", json!({"Bucket": "results"})),
            invalid,
            "Destination.Region",
        ),
        (
            patched("Destination.Prefix", json!("/abs")),
            invalid,
            "Prefix",
        ),
        (patched("Extra", json!(1)), invalid, "Extra"),
        (json!("not an object"), invalid, "body"),
    ];
    for (body, code, field) in cases {
        let r = api.post("/jobs", &alice, &body).await;
        assert_eq!(r.status, 400, "{body} -> {}", r.text);
        assert_eq!(r.body["ErrorCode"], code, "{body} -> {}", r.text);
        assert!(
            r.body["Error"].as_str().unwrap().contains(field),
            "{body} -> {}",
            r.text
        );
    }
    // An unknown service is refused with the list of the available ones: all seven.
    let mut b = base.clone();
    b["Services"] = json!({"translate": ""});
    let r = api.post("/jobs", &alice, &b).await;
    assert_eq!(r.body["ErrorCode"], "UNSUPPORTED_SERVICE");
    let listed = r.body["Error"].as_str().unwrap();
    for service in ["s2t", "ocr", "nld", "audiotag", "face", "logo", "pdf"] {
        assert!(listed.contains(service), "{listed}");
    }
    // Malformed JSON.
    let r = api
        .http
        .post(format!("{}/jobs", api.base))
        .header("x-amz-access-key", &alice.access)
        .header("x-amz-secret-key", &alice.secret)
        .body("{\"Name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Provider is tolerated, and defaults apply.
    let mut b = base.clone();
    b["Source"]["Provider"] = json!("wasabi");
    let r = api.post("/jobs", &alice, &b).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["Job"]["Priority"], 5);
    assert_eq!(r.body["Job"]["Status"], "submitted");
    assert_eq!(r.body["Job"]["Source"]["Provider"], "wasabi");
}

#[tokio::test]
async fn body_limit_and_rate_limit() {
    let s = start("[api]\nbody_limit_bytes = 2048\nrate_limit_per_second = 2\nrate_limit_burst = 2\n[worker]\nconcurrency = 0");
    let alice = s.create_key("alice", false);
    let api = s.client();
    let mut big = job_body("x", "media", "a.pdf", "results");
    big["Name"] = json!("n".repeat(4000));
    let r = api.post("/jobs", &alice, &big).await;
    assert_eq!(
        (r.status, r.body["ErrorCode"].as_str()),
        (413, Some("PAYLOAD_TOO_LARGE"))
    );
    let mut limited = None;
    for _ in 0..10 {
        let r = api.get("/jobs", &alice).await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the rate limit answers 429");
    assert_eq!(r.body["ErrorCode"], "RATE_LIMITED");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    // Another key is not limited by alice's traffic.
    let bob = s.create_key("bob", false);
    assert_eq!(api.get("/jobs", &bob).await.status, 200);
}

#[tokio::test]
async fn idempotency_key_returns_the_first_job() {
    let s = start("[worker]\nconcurrency = 0");
    let alice = s.create_key("alice", false);
    let bob = s.create_key("bob", false);
    let api = s.client();
    let body = job_body("idem", "media", "a.pdf", "results");
    let first = api.submit_once(&alice, &body, "k1").await;
    assert_eq!(first.status, 200);
    // Same body with keys in another order and other spacing is the same request.
    let reordered: Value = serde_json::from_str(
        r#"{"Destination": {"Region": "us-east-1", "Bucket": "results"}, "Source": {"ObjectKey": "a.pdf", "Bucket": "media"}, "Services": {"pdf": ""}, "Name": "idem"}"#,
    )
    .unwrap();
    let again = api.submit_once(&alice, &reordered, "k1").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["Job"]["Id"], first.body["Job"]["Id"]);
    let mut other = body.clone();
    other["Name"] = json!("different");
    let clash = api.submit_once(&alice, &other, "k1").await;
    assert_eq!(
        (clash.status, clash.body["ErrorCode"].as_str()),
        (409, Some("IDEMPOTENCY_MISMATCH"))
    );
    // Keys are per user.
    let bobs = api.submit_once(&bob, &body, "k1").await;
    assert_eq!(bobs.status, 200);
    assert_ne!(bobs.body["Job"]["Id"], first.body["Job"]["Id"]);
    assert_eq!(api.get("/jobs", &alice).await.body["TotalRecords"], 1);
}

#[tokio::test]
async fn listing_pages_filters_and_sorts() {
    let s = start("[worker]\nconcurrency = 0");
    let alice = s.create_key("alice", false);
    let api = s.client();
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut b = job_body(&format!("Clip {i}"), "media", "a.pdf", "results");
        b["Batch"] = json!(if i % 2 == 0 { "even" } else { "odd" });
        if i == 3 {
            b["Name"] = json!("Special Interview");
        }
        ids.push(api.submit(&alice, &b).await);
    }
    let r = api.get("/jobs?pageSize=3&pageNumber=2", &alice).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (
            r.body["TotalRecords"].as_i64(),
            r.body["TotalPages"].as_i64()
        ),
        (Some(7), Some(3))
    );
    assert_eq!(
        (r.body["PageNumber"].as_i64(), r.body["PageSize"].as_i64()),
        (Some(2), Some(3))
    );
    let got: Vec<&str> = r.body["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["Id"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        ids[3..6].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(
        r.body["Records"][0].get("Services").is_none(),
        "lists leave out Services"
    );

    let r = api.get("/jobs?sortOrder=Desc&pageSize=2", &alice).await;
    assert_eq!(r.body["Records"][0]["Id"], ids[6].as_str());
    let r = api.get("/jobs?batch=odd", &alice).await;
    assert_eq!(r.body["TotalRecords"], 3);
    let r = api.get("/jobs?name=special%20INTER", &alice).await;
    assert_eq!(r.body["TotalRecords"], 1);
    assert_eq!(r.body["Records"][0]["Id"], ids[3].as_str());
    let r = api.get("/jobs?status=submitted", &alice).await;
    assert_eq!(r.body["TotalRecords"], 7);
    let r = api.get("/jobs?status=completed", &alice).await;
    assert_eq!(r.body["TotalRecords"], 0);
    let created = api.get(&format!("/jobs/{}", ids[4]), &alice).await.body["Created"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .get(&format!("/jobs?createdBefore={created}"), &alice)
        .await;
    assert!(r.body["TotalRecords"].as_i64().unwrap() <= 4);
    let r = api
        .get(
            "/jobs?createdAfter=2000-01-01T00:00:00Z&sortBy=Completed",
            &alice,
        )
        .await;
    assert_eq!(r.body["TotalRecords"], 7);
    for bad in [
        "pageSize=0",
        "pageSize=101",
        "pageNumber=-1",
        "sortBy=Name",
        "sortOrder=up",
        "status=done",
        "createdAfter=today",
    ] {
        let r = api.get(&format!("/jobs?{bad}"), &alice).await;
        assert_eq!(
            (r.status, r.body["ErrorCode"].as_str()),
            (400, Some("VALIDATION_ERROR")),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn operations_endpoints_need_no_keys() {
    let s = start("[worker]\nconcurrency = 0");
    let api = s.client();
    let r = api.call("GET", "/healthz", None, None, &[]).await;
    assert_eq!(r.status, 200);
    let r = api.call("GET", "/readyz", None, None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api.call("GET", "/openapi.json", None, None, &[]).await;
    assert_eq!(r.body["openapi"], "3.1.0");
    for p in [
        "/jobs",
        "/jobs/{Id}",
        "/jobs/{Id}/status",
        "/jobs/{Id}/metadata",
        "/jobs/{Id}/cancel",
    ] {
        assert!(r.body["paths"].get(p).is_some(), "{p} missing from OpenAPI");
    }
    let alice = s.create_key("alice", false);
    api.get("/jobs", &alice).await;
    let r = api.call("GET", "/metrics", None, None, &[]).await;
    assert_eq!(r.status, 200);
    assert!(
        r.text.contains("airscope_http_requests_total"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("airscope_jobs{status=\"submitted\"}"),
        "{}",
        r.text
    );
    assert!(!r.text.contains(&alice.access));
    let r = api.call("GET", "/nowhere", None, None, &[]).await;
    assert_eq!(
        (r.status, r.body["ErrorCode"].as_str()),
        (404, Some("NOT_FOUND"))
    );
    let r = api.call("DELETE", "/jobs", None, None, &[]).await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn a_locked_store_answers_503_with_retry_after() {
    use std::io::Write;
    let s = start("[store]\nbusy_timeout_ms = 300\n[worker]\nconcurrency = 0");
    let alice = s.create_key("alice", false);
    let api = s.client();
    let body = job_body("x", "media", "a.pdf", "results");
    api.submit(&alice, &body).await;
    // Another process holds the write lock of the SQLite file.
    let mut locker = std::process::Command::new("sqlite3")
        .arg(s.data_dir().join("airscope.db"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdin = locker.stdin.as_mut().unwrap();
    stdin
        .write_all(b"BEGIN EXCLUSIVE;\nINSERT INTO fairness VALUES ('lock', 0);\n")
        .unwrap();
    stdin.flush().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let r = api.post("/jobs", &alice, &body).await;
    assert_eq!(
        (r.status, r.body["ErrorCode"].as_str()),
        (503, Some("UNAVAILABLE")),
        "{}",
        r.text
    );
    assert!(r.headers.contains_key("retry-after"));
    assert!(
        !r.text.contains("database"),
        "no internals in the message: {}",
        r.text
    );
    locker.kill().unwrap();
    locker.wait().unwrap();
    assert_eq!(api.post("/jobs", &alice, &body).await.status, 200);
}

#[test]
fn environment_overrides_configuration_and_typos_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(BIN);
        cmd.args(["keys", "create", "--user", "envtest"])
            .env("AIRSCOPE_DATA_DIR", dir.path())
            .env("AIRSCOPE_MASTER_KEY", "ab".repeat(32))
            .env("AIRSCOPE_LOG_FORMAT", "json");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let ok = run(&[]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        dir.path().join("airscope.db").exists(),
        "AIRSCOPE_DATA_DIR was used"
    );
    assert!(
        !dir.path().join("master.key").exists(),
        "AIRSCOPE_MASTER_KEY was used"
    );
    let typo = run(&[("AIRSCOPE_DATA_DIRR", "/tmp/x")]);
    assert!(!typo.status.success());
    let err = String::from_utf8_lossy(&typo.stderr);
    assert!(err.contains("data_dirr"), "{err}");
}

#[tokio::test]
async fn the_whole_service_runs_on_postgres() {
    let pg = common::postgres::Postgres::start();
    let s = start(&format!("[store]\nurl = \"{}\"", pg.url));
    let alice = s.create_key("alice", false);
    let bob = s.create_key("bob", false);
    s.upload(&alice, "media", "report.pdf", &fixture("report.pdf"));
    let _ = s.aws(&alice, &["s3", "mb", "s3://results"]);
    let api = s.client();
    let body = job_body("pg", "media", "report.pdf", "results");
    let first = api.submit_once(&alice, &body, "pg-1").await;
    let id = first.body["Job"]["Id"].as_str().unwrap().to_string();
    let again = api.submit_once(&alice, &body, "pg-1").await;
    assert_eq!(again.body["Job"]["Id"], id.as_str());
    let job = api.wait_for(&alice, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "completed", "{job}");
    assert_eq!(job["Progress"], 100);
    assert_eq!(api.get(&format!("/jobs/{id}"), &bob).await.status, 404);
    let doc = s.metadata(&alice, &id).await;
    assert_eq!(doc["message_payload"]["pdf"]["page_count"], 2);
    let r = api.get("/jobs?name=PG&status=completed", &alice).await;
    assert_eq!(r.body["TotalRecords"], 1);
    let r = api.call("GET", "/readyz", None, None, &[]).await;
    assert_eq!(r.status, 200);
}

/// Kills a spawned process when the test ends.
struct Reap(std::process::Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_separate_worker_process_is_woken_by_postgres_and_runs_the_job() {
    let pg = common::postgres::Postgres::start();
    // An API-only node (no workers) with the embedded storage...
    let s = start(&format!(
        "[store]\nurl = \"{}\"\n[worker]\nconcurrency = 0",
        pg.url
    ));
    // ...and a worker-only process that polls only every 10 minutes: a job that completes
    // sooner was announced by LISTEN/NOTIFY.
    let worker = std::process::Command::new(BIN)
        .args(["--config", s.config.to_str().unwrap(), "worker"])
        .env("AIRSCOPE_WORKER__CONCURRENCY", "1")
        .env("AIRSCOPE_WORKER__POLL_INTERVAL_MS", "600000")
        .env("AIRSCOPE_STORAGE__ENDPOINT", &s.s3)
        .env("AIRSCOPE_WORKER__METRICS_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut worker = Reap(worker);
    let mut out = std::io::BufReader::new(worker.0.stdout.take().unwrap());
    let mut lines = [String::new(), String::new()];
    for line in &mut lines {
        std::io::BufRead::read_line(&mut out, line).unwrap();
    }
    let worker_metrics = lines[0]
        .strip_prefix("metrics: ")
        .unwrap_or_else(|| panic!("{lines:?}"))
        .trim()
        .to_string();
    assert!(lines[1].starts_with("worker: 1 job slots"), "{lines:?}");
    let alice = s.create_key("alice", false);
    s.upload(&alice, "media", "report.pdf", &fixture("report.pdf"));
    let _ = s.aws(&alice, &["s3", "mb", "s3://results"]);
    let api = s.client();
    let id = api
        .submit(
            &alice,
            &job_body("remote", "media", "report.pdf", "results"),
        )
        .await;
    let job = api.wait_for(&alice, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "completed", "{job}");
    assert_eq!(s.list_objects(&alice, "results").len(), 1);

    // The worker's own counters, and the fleet-wide latency the API node reads from the store.
    let text = reqwest::get(&worker_metrics)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        gauge(&text, "airscope_job_attempt_seconds_count"),
        Some(1.0),
        "{text}"
    );
    let text = api.call("GET", "/metrics", None, None, &[]).await.text;
    let total = gauge(
        &text,
        r#"airscope_job_latency_seconds{stage="total",quantile="0.5"}"#,
    );
    let queue = gauge(
        &text,
        r#"airscope_job_latency_seconds{stage="queue",quantile="0.99"}"#,
    );
    let wall = (time_ms(&job["Completed"]) - time_ms(&job["Created"])) as f64 / 1000.0;
    assert_eq!(total, Some(wall), "{text}");
    assert!(queue.is_some_and(|q| q <= wall), "{text}");
    assert_eq!(
        gauge(&text, "airscope_queue_oldest_seconds"),
        Some(0.0),
        "{text}"
    );
}

/// The value of a Prometheus sample line `name value`.
fn gauge(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

fn time_ms(v: &Value) -> i64 {
    let t = time::OffsetDateTime::parse(
        v.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}
