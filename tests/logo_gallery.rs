//! Logo galleries through the API, as a user drives them: reference images uploaded with the
//! AWS CLI, enrolled with `POST /logos`, and jobs that find the logos of their own user's
//! gallery.

mod common;

use common::*;
use serde_json::{json, Value};

fn enrol_body(name: &str, key: &str) -> Value {
    json!({"Name": name, "Source": {"Bucket": "media", "ObjectKey": key}})
}

/// The logos a `logo` job finds in `key` of `bucket`, at AiR's example threshold.
async fn logos(s: &Server, keys: &Keys, bucket: &str, dest: &str) -> Vec<Value> {
    let mut body = job_body("scene", bucket, "scene.png", dest);
    body["Services"] = json!({"logo": {"config": {"rec_confidence_threshold": 0.85}}});
    let api = s.client();
    let id = api.submit(keys, &body).await;
    let job = api.wait_for(keys, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "completed", "{job}");
    let doc = s.metadata(keys, &id).await;
    doc["message_payload"]["logos"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_users_logo_gallery_finds_that_users_logos_in_their_jobs_only() {
    let (s, alice) = start_with_results();
    let bob = s.create_key("bob", false);
    let _ = s.aws(&bob, &["s3", "mb", "s3://results-bob"]);
    for (keys, bucket) in [(&alice, "media"), (&bob, "media-bob")] {
        s.upload(keys, bucket, "scene.png", &logo_picture("box_in_scene.png"));
    }
    s.upload(&alice, "media", "gallery/box.png", &logo_picture("box.png"));
    s.upload(
        &alice,
        "media",
        "gallery/box-2.png",
        &logo_picture("box.png"),
    );
    let api = s.client();

    let first = api
        .post(
            "/logos",
            &alice,
            &enrol_body("Bastoncini", "gallery/box.png"),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["Images"], 1);
    let id = first.body["Id"].as_str().unwrap().to_string();
    let second = api
        .post(
            "/logos",
            &alice,
            &enrol_body("Bastoncini", "gallery/box-2.png"),
        )
        .await;
    assert_eq!(
        (second.body["Id"].as_str(), second.body["Images"].as_i64()),
        (Some(id.as_str()), Some(2)),
        "{}",
        second.text
    );
    let listed = api.get("/logos", &alice).await;
    assert_eq!(
        listed.body["Logos"].as_array().unwrap().len(),
        1,
        "{}",
        listed.text
    );
    assert_eq!(listed.body["Logos"][0]["Name"], "Bastoncini");
    assert_eq!(
        api.get("/faces", &alice).await.body["Faces"],
        json!([]),
        "another gallery"
    );

    let found = logos(&s, &alice, "media", "results").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (&found[0]["name"], &found[0]["logo_id"], &found[0]["method"]),
        (&json!("Bastoncini"), &json!(id), &json!("keypoints"))
    );

    // Bob sees nothing of Alice's gallery, cannot delete from it, and his jobs do not use it.
    assert_eq!(api.get("/logos", &bob).await.body["Logos"], json!([]));
    assert_eq!(
        api.call("DELETE", &format!("/logos/{id}"), Some(&bob), None, &[])
            .await
            .status,
        404
    );
    assert_eq!(
        api.call("DELETE", &format!("/faces/{id}"), Some(&alice), None, &[])
            .await
            .status,
        404,
        "a logo is not a person"
    );
    assert_eq!(
        logos(&s, &bob, "media-bob", "results-bob").await,
        Vec::<Value>::new()
    );

    // Deleting the logo forgets every reference: Alice's next job no longer finds it.
    let gone = api
        .call("DELETE", &format!("/logos/{id}"), Some(&alice), None, &[])
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    assert_eq!(api.get("/logos", &alice).await.body["Logos"], json!([]));
    assert_eq!(
        logos(&s, &alice, "media", "results").await,
        Vec::<Value>::new()
    );
}

#[tokio::test]
async fn enrolment_refuses_references_too_small_or_too_plain_to_match() {
    let (s, alice) = start_with_results();
    let dir = tempfile::tempdir().unwrap();
    let blank = ffmpeg_to(
        dir.path(),
        "blank.png",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=white:s=640x480",
            "-frames:v",
            "1",
        ],
    );
    let tiny = ffmpeg_to(
        dir.path(),
        "tiny.png",
        &[
            "-i",
            arg(&logo_picture("box.png")),
            "-vf",
            "scale=24:16",
            "-frames:v",
            "1",
        ],
    );
    s.upload(&alice, "media", "blank.png", &blank);
    s.upload(&alice, "media", "tiny.png", &tiny);
    s.upload(&alice, "media", "speech.wav", &recording("speech_de.wav"));
    let api = s.client();
    let refused = |body: Value| {
        let (api, alice) = (&api, &alice);
        async move { api.refused("/logos", alice, &body).await }
    };
    assert!(refused(enrol_body("Blank", "blank.png"))
        .await
        .contains("too little detail"));
    assert!(refused(enrol_body("Tiny", "tiny.png"))
        .await
        .contains("at least 32 pixels"));
    assert!(refused(enrol_body("Voice", "speech.wav"))
        .await
        .contains("must be an image"));
    assert!(
        refused(json!({"Name": "", "Source": {"Bucket": "media", "ObjectKey": "blank.png"}}))
            .await
            .contains("Name")
    );
    assert_eq!(
        api.get("/logos", &alice).await.body["Logos"],
        json!([]),
        "nothing was enrolled"
    );
}
