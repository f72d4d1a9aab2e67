//! The model store: verification, and the error a user sees when a model is missing.

mod common;

use std::process::Command;

use common::*;

#[test]
fn verify_names_missing_and_corrupt_files_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(models.join("pdfium")).unwrap();
    // A corrupt copy of pdfium (one byte changed).
    let mut lib = std::fs::read(models_dir().join("pdfium/libpdfium.so")).unwrap();
    lib[1000] ^= 0xff;
    std::fs::write(models.join("pdfium/libpdfium.so"), lib).unwrap();
    let out = Command::new(BIN)
        .args(["models", "verify"])
        .env("AIRSCOPE_MODELS__DIR", &models)
        .env("AIRSCOPE_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("`pdfium`") && text.contains("corrupt"),
        "{text}"
    );
    assert!(
        text.contains("`onnxruntime`") && text.contains("missing"),
        "{text}"
    );
    assert!(text.contains("run `airscope models fetch`"), "{text}");
    let list = Command::new(BIN)
        .args(["models", "list"])
        .env("AIRSCOPE_MODELS__DIR", &models)
        .env("AIRSCOPE_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains("pypdfium2==5.15.2") && text.contains("onnxruntime==1.22.1"),
        "{text}"
    );
}

#[tokio::test]
async fn a_job_that_needs_a_missing_model_fails_with_the_fix() {
    let s = start("[models]\ndir = \"/nonexistent/airscope-models\"");
    let alice = s.create_key("alice", false);
    s.upload(&alice, "media", "report.pdf", &fixture("report.pdf"));
    let api = s.client();
    let id = api
        .submit(
            &alice,
            &job_body("nomodel", "media", "report.pdf", "results"),
        )
        .await;
    let job = api.wait_for(&alice, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "failed");
    let err = job["Error"].as_str().unwrap();
    assert!(
        err.contains("pdfium") && err.contains("airscope models fetch"),
        "{err}"
    );
}
