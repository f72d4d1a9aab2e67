//! Black-box harness: spawns the real `airscope` binary on loopback ports with its own data
//! directory, talks HTTP with reqwest and S3 with the official AWS CLI.

#![allow(dead_code)]

pub mod postgres;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_airscope");

/// Model files fetched once by `scripts/test.sh` (or `airscope models fetch`).
pub fn models_dir() -> PathBuf {
    let dir = std::env::var_os("TEST_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-models"));
    assert!(
        dir.join("pdfium/libpdfium.so").is_file(),
        "models missing in {}: run scripts/test.sh (or AIRSCOPE_MODELS__DIR={} airscope models fetch)",
        dir.display(),
        dir.display()
    );
    dir
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[derive(Clone, Debug)]
pub struct Keys {
    pub user: String,
    pub access: String,
    pub secret: String,
}

pub struct Server {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub api: String,
    pub s3: String,
    pub admin: Keys,
    child: Option<Child>,
    pub log: Arc<Mutex<String>>,
    pub stdout: String,
}

/// Extra TOML appended to the test configuration.
/// A server on defaults with user `alice` and her `results` bucket.
pub fn start_with_results() -> (Server, Keys) {
    let s = start("");
    let alice = s.create_key("alice", false);
    let _ = s.aws(&alice, &["s3", "mb", "s3://results"]);
    (s, alice)
}

pub fn start(extra_toml: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("airscope.toml");
    let toml = format!(
        "data_dir = \"{}\"\n\
         [api]\nlisten = \"127.0.0.1:0\"\n\
         [storage]\nlisten = \"127.0.0.1:0\"\n\
         [models]\ndir = \"{}\"\n\
         [worker]\npoll_interval_ms = 200\nheartbeat_ms = 300\n\
         {extra_toml}\n",
        dir.path().join("data").display(),
        models_dir().display(),
    );
    std::fs::write(&config, merge_toml(&toml)).unwrap();
    let mut s = Server {
        dir,
        config,
        api: String::new(),
        s3: String::new(),
        admin: Keys {
            user: "admin".into(),
            access: String::new(),
            secret: String::new(),
        },
        child: None,
        log: Arc::new(Mutex::new(String::new())),
        stdout: String::new(),
    };
    s.spawn();
    s
}

/// Later sections of the same name win: fold `[x]` tables that appear twice into one.
fn merge_toml(text: &str) -> String {
    let mut sections: Vec<(String, Vec<String>)> = vec![(String::new(), vec![])];
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            let name = t.to_string();
            if !sections.iter().any(|(n, _)| *n == name) {
                sections.push((name.clone(), vec![]));
            }
            let idx = sections.iter().position(|(n, _)| *n == name).unwrap();
            let section = sections.remove(idx);
            sections.push(section);
        } else if !t.is_empty() {
            let key = t.split('=').next().unwrap().trim().to_string();
            let body = &mut sections.last_mut().unwrap().1;
            body.retain(|l| l.split('=').next().unwrap().trim() != key);
            body.push(t.to_string());
        }
    }
    sections
        .into_iter()
        .map(|(n, b)| format!("{n}\n{}\n", b.join("\n")))
        .collect()
}

impl Server {
    pub fn spawn(&mut self) {
        let mut child = Command::new(BIN)
            .args(["--config", self.config.to_str().unwrap(), "serve"])
            .env_remove("AIRSCOPE_DATA_DIR")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap() == 0 {
                let mut err = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("server exited early:\n{seen}\n{err}");
            }
            seen.push_str(&line);
            let line = line.trim();
            if let Some(a) = line.strip_prefix("access_key: ") {
                self.admin.access = a.into();
            } else if let Some(s) = line.strip_prefix("secret_key: ") {
                self.admin.secret = s.into();
            } else if let Some(s3) = line.strip_prefix("s3: ") {
                self.s3 = s3.into();
            } else if let Some(api) = line.strip_prefix("api: ") {
                self.api = api.into();
                break;
            }
        }
        self.stdout.push_str(&seen);
        let log = self.log.clone();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || loop {
            let mut line = String::new();
            match err.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => log.lock().unwrap().push_str(&line),
            }
        });
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = out.read_to_string(&mut sink);
        });
        self.child = Some(child);
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// Restart on the same data directory (the S3 and API ports may change).
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    pub fn logs(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn create_key(&self, user: &str, view_only: bool) -> Keys {
        let mut cmd = Command::new(BIN);
        cmd.args([
            "--config",
            self.config.to_str().unwrap(),
            "keys",
            "create",
            "--user",
            user,
        ]);
        if view_only {
            cmd.arg("--view-only");
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let field = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(k))
                .unwrap()
                .trim()
                .to_string()
        };
        Keys {
            user: user.into(),
            access: field("access_key:"),
            secret: field("secret_key:"),
        }
    }

    /// Run the AWS CLI against the embedded storage with these keys.
    pub fn aws(&self, keys: &Keys, args: &[&str]) -> std::process::Output {
        Command::new("aws")
            .args(["--endpoint-url", &self.s3])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", &keys.access)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .expect("the aws CLI is installed (scripts/setup.sh)")
    }

    pub fn aws_ok(&self, keys: &Keys, args: &[&str]) -> String {
        let out = self.aws(keys, args);
        assert!(
            out.status.success(),
            "aws {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn upload(&self, keys: &Keys, bucket: &str, key: &str, file: &Path) {
        let _ = self.aws(keys, &["s3", "mb", &format!("s3://{bucket}")]);
        self.aws_ok(
            keys,
            &[
                "s3",
                "cp",
                file.to_str().unwrap(),
                &format!("s3://{bucket}/{key}"),
            ],
        );
    }

    /// Object keys under a bucket prefix.
    pub fn list_objects(&self, keys: &Keys, bucket: &str) -> Vec<String> {
        self.aws_ok(
            keys,
            &["s3", "ls", "--recursive", &format!("s3://{bucket}")],
        )
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3).map(str::to_string))
        .collect()
    }

    pub fn download_json(&self, keys: &Keys, s3_path: &str) -> Value {
        let text = self.aws_ok(keys, &["s3", "cp", s3_path, "-"]);
        serde_json::from_str(&text).unwrap()
    }

    /// Uploads `file` as `media/{key}`, submits `body` (a job on it), and returns the
    /// metadata file of the job, which must complete.
    pub async fn complete_job(&self, keys: &Keys, key: &str, file: &Path, body: &Value) -> Value {
        self.upload(keys, "media", key, file);
        let api = self.client();
        let id = api.submit(keys, body).await;
        let job = api.wait_for(keys, &id, &["completed", "failed"]).await;
        assert_eq!(job["Status"], "completed", "{key}: {job}");
        self.metadata(keys, &id).await
    }

    /// The metadata file of a completed job, fetched from where the API says it is and checked
    /// against the shipped schema.
    pub async fn metadata(&self, keys: &Keys, id: &str) -> Value {
        let r = self
            .client()
            .get(&format!("/jobs/{id}/metadata"), keys)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let path = r.body["DestinationPath"].as_str().unwrap();
        let doc = self.download_json(keys, path);
        airscope::output::validate(&doc).unwrap();
        doc
    }

    pub fn client(&self) -> Api {
        Api {
            base: self.api.clone(),
            http: reqwest::Client::new(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Api {
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        keys: Option<&Keys>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(k) = keys {
            req = req
                .header("x-amz-access-key", &k.access)
                .header("x-amz-secret-key", &k.secret);
        }
        for (h, v) in headers {
            req = req.header(*h, *v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text,
            headers,
        }
    }

    pub async fn get(&self, path: &str, keys: &Keys) -> Resp {
        self.call("GET", path, Some(keys), None, &[]).await
    }

    pub async fn post(&self, path: &str, keys: &Keys, body: &Value) -> Resp {
        self.call("POST", path, Some(keys), Some(body), &[]).await
    }

    /// `POST` that must be refused as a 400 `VALIDATION_ERROR`: its message.
    pub async fn refused(&self, path: &str, keys: &Keys, body: &Value) -> String {
        let r = self.post(path, keys, body).await;
        assert_eq!(
            (r.status, r.body["ErrorCode"].as_str()),
            (400, Some("VALIDATION_ERROR")),
            "{}",
            r.text
        );
        r.body["Error"].as_str().unwrap().to_string()
    }

    /// `POST /jobs` with an `Idempotency-Key`.
    pub async fn submit_once(&self, keys: &Keys, body: &Value, idem: &str) -> Resp {
        let header = [("Idempotency-Key", idem)];
        self.call("POST", "/jobs", Some(keys), Some(body), &header)
            .await
    }

    pub async fn submit(&self, keys: &Keys, body: &Value) -> String {
        let r = self.post("/jobs", keys, body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["Job"]["Id"].as_str().unwrap().to_string()
    }

    /// Poll until the job is in one of `statuses` (a generous guard against hangs, not a
    /// performance check).
    pub async fn wait_for(&self, keys: &Keys, id: &str, statuses: &[&str]) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let r = self.get(&format!("/jobs/{id}"), keys).await;
            assert_eq!(r.status, 200, "{}", r.text);
            if statuses.contains(&r.body["Status"].as_str().unwrap()) {
                return r.body;
            }
            assert!(
                Instant::now() < deadline,
                "job {id} stuck in {}",
                r.body["Status"]
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Run the FFmpeg CLI to make test media.
pub fn ffmpeg(args: &[&str], out: &Path) {
    let st = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .arg(out)
        .status()
        .expect("ffmpeg is installed (scripts/setup.sh)");
    assert!(st.success(), "ffmpeg {args:?}");
}

/// Run FFmpeg into `dir/name` and return the path.
pub fn ffmpeg_to(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    ffmpeg(args, &out);
    out
}

/// `secs` seconds of digital silence, stereo at 44.1 kHz, in the format `name` implies.
pub fn silence(dir: &Path, name: &str, secs: &str) -> PathBuf {
    ffmpeg_to(
        dir,
        name,
        &[
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=44100:cl=stereo",
            "-t",
            secs,
        ],
    )
}

/// A 2 s H.264 video with no audio stream.
pub fn mute_video(dir: &Path) -> PathBuf {
    ffmpeg_to(
        dir,
        "mute.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25:duration=2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

pub fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A recording fetched by scripts/fetch-fixtures.sh (run by scripts/test.sh); what it
/// is and its truth: tests/fixtures/audio/README.md.
pub fn recording(name: &str) -> PathBuf {
    fetched("audio", name)
}

/// A photograph or scan fetched by scripts/fetch-fixtures.sh; what it is:
/// tests/fixtures/ocr/README.md (its transcript: tests/fixtures/ocr/NAME.txt) or
/// tests/fixtures/face/README.md.
pub fn picture(name: &str) -> PathBuf {
    fetched("image", name)
}

/// A picture for the logo tests fetched by scripts/fetch-fixtures.sh (`negative/NAME` shows
/// none of the enrolled logos); what each is: tests/fixtures/logo/README.md.
pub fn logo_picture(name: &str) -> PathBuf {
    fetched("logo", name)
}

fn fetched(kind: &str, name: &str) -> PathBuf {
    let dir = std::env::var_os("TEST_FIXTURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fixtures"));
    let path = dir.join(kind).join(name);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-fixtures.sh",
        path.display()
    );
    path
}

/// `airscope analyze --services SERVICE FILE` into a fresh folder: the metadata document,
/// checked against the schema and with its one service completed, and the folder.
pub fn analyze_file(file: &Path, service: &str) -> (Value, tempfile::TempDir) {
    analyze_with(file, service, &[])
}

/// [`analyze_file`] with more arguments for `airscope analyze`.
pub fn analyze_with(file: &Path, service: &str, args: &[&str]) -> (Value, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(BIN)
        .args(["analyze", "--services", service, "--out"])
        .arg(out.path())
        .args(args)
        .arg(file)
        .env("AIRSCOPE_MODELS__DIR", models_dir())
        .env("AIRSCOPE_DATA_DIR", out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_metadata.json"))
        .expect("a metadata file");
    let doc: Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    airscope::output::validate(&doc).unwrap();
    let run = &doc["message_payload"]["services"][0];
    assert_eq!(run["status"], "completed", "{run}");
    (doc, out)
}

/// A job body for a source in the embedded storage.
pub fn job_body(name: &str, bucket: &str, key: &str, dest: &str) -> Value {
    serde_json::json!({
        "Name": name,
        "Services": {"pdf": ""},
        "Source": {"Bucket": bucket, "ObjectKey": key},
        "Destination": {"Bucket": dest, "Region": "us-east-1"}
    })
}

/// A born-digital PDF of `pages` pages, page `n` reading "Page n of the long document".
/// Written by hand (the format is simple) so tests can make documents of any length.
pub fn long_pdf(pages: usize) -> Vec<u8> {
    pdf_pages(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        pages,
        "/MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>",
        |i| {
            format!(
                "BT /F1 12 Tf 72 700 Td (Page {} of the long document) Tj ET",
                i + 1
            )
        },
    )
}

/// A PDF of `pages` pages sharing one resource (object 3, e.g. a font or an image): each page
/// has the dictionary entries `entries` (its box and resources) and draws `content(index)`.
pub fn pdf_pages(
    resource: Vec<u8>,
    pages: usize,
    entries: &str,
    content: impl Fn(usize) -> String,
) -> Vec<u8> {
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objs: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        )
        .into_bytes(),
        resource,
    ];
    for i in 0..pages {
        objs.push(
            format!(
                "<< /Type /Page /Parent 2 0 R {entries} /Contents {} 0 R >>",
                5 + 2 * i
            )
            .into_bytes(),
        );
        objs.push(pdf_stream("", content(i).as_bytes()));
    }
    write_pdf(&objs)
}

/// A PDF stream object holding `data`, with the dictionary entries `dict` before its length.
pub fn pdf_stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("<< {dict}/Length {} >>\nstream\n", data.len()).into_bytes();
    out.extend(data);
    out.extend(b"\nendstream");
    out
}

/// A PDF file of `objs`, numbered from 1 (the first is the catalog), with its cross-reference
/// table.
fn write_pdf(objs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend(body);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for off in offsets {
        out.extend(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A word-mark logo: the name typeset in DejaVu Sans Bold, black on white.
pub fn typeset(dir: &Path, text: &str) -> PathBuf {
    let font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    ffmpeg_to(
        dir,
        &format!("{text}.png"),
        &[
            "-f",
            "lavfi",
            "-i",
            "color=white:s=480x160",
            "-vf",
            &format!("drawtext=fontfile={font}:text={text}:fontsize=80:fontcolor=black:x=(w-tw)/2:y=(h-th)/2"),
            "-frames:v",
            "1",
        ],
    )
}
