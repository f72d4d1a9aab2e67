//! Face galleries through the API, as a user drives them: photos uploaded with the AWS CLI,
//! enrolled with `POST /faces`, and jobs that name the people of their own user's gallery.

mod common;

use common::*;
use serde_json::{json, Value};

fn enrol_body(name: &str, key: &str) -> Value {
    json!({"Name": name, "Source": {"Bucket": "media", "ObjectKey": key}})
}

/// The people of a `face` job on `key` (already uploaded to the user's `media` bucket).
async fn people(s: &Server, keys: &Keys, key: &str) -> Vec<Value> {
    let mut body = job_body(key, "media", key, "results");
    body["Services"] = json!({"face": ""});
    let api = s.client();
    let id = api.submit(keys, &body).await;
    let job = api.wait_for(keys, &id, &["completed", "failed"]).await;
    assert_eq!(job["Status"], "completed", "{job}");
    let doc = s.metadata(keys, &id).await;
    doc["message_payload"]["faces"]["people"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_users_gallery_names_people_in_that_users_jobs_only() {
    let (s, alice) = start_with_results();
    let bob = s.create_key("bob", false);
    let _ = s.aws(&bob, &["s3", "mb", "s3://results-bob"]);
    for (keys, bucket) in [(&alice, "media"), (&bob, "media-bob")] {
        s.upload(keys, bucket, "obama_3.jpg", &picture("face_obama_3.jpg"));
    }
    s.upload(
        &alice,
        "media",
        "gallery/obama_1.jpg",
        &picture("face_obama_1.jpg"),
    );
    s.upload(
        &alice,
        "media",
        "gallery/obama_2.jpg",
        &picture("face_obama_2.jpg"),
    );
    let api = s.client();

    let first = api
        .post(
            "/faces",
            &alice,
            &enrol_body("Barack Obama", "gallery/obama_1.jpg"),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["Photos"], 1);
    let id = first.body["Id"].as_str().unwrap().to_string();
    let second = api
        .post(
            "/faces",
            &alice,
            &enrol_body("Barack Obama", "gallery/obama_2.jpg"),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(
        (second.body["Id"].as_str(), second.body["Photos"].as_i64()),
        (Some(id.as_str()), Some(2))
    );
    let listed = api.get("/faces", &alice).await;
    assert_eq!(
        listed.body["Faces"].as_array().unwrap().len(),
        1,
        "{}",
        listed.text
    );
    assert_eq!(listed.body["Faces"][0]["Name"], "Barack Obama");

    let found = people(&s, &alice, "obama_3.jpg").await;
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0]["name"].clone(), found[0]["known"].clone()),
        (json!("Barack Obama"), json!(true))
    );

    // `nld` alone reads the gallery too (it runs `face` for its own sake) and tells of him
    // without a `faces` section.
    let mut body = job_body("obama_3.jpg", "media", "obama_3.jpg", "results");
    body["Services"] = json!({"nld": ""});
    let job = api.submit(&alice, &body).await;
    let done = api.wait_for(&alice, &job, &["completed", "failed"]).await;
    assert_eq!(done["Status"], "completed", "{done}");
    let doc = s.metadata(&alice, &job).await;
    let payload = &doc["message_payload"];
    let text = payload["descriptions"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("Barack Obama appears."), "{text}");
    assert!(payload.get("faces").is_none(), "{payload}");

    // Bob sees nothing of Alice's gallery, cannot delete from it, and his jobs do not use it.
    assert_eq!(api.get("/faces", &bob).await.body["Faces"], json!([]));
    assert_eq!(
        api.call("DELETE", &format!("/faces/{id}"), Some(&bob), None, &[])
            .await
            .status,
        404
    );
    let mut body = job_body("obama_3.jpg", "media-bob", "obama_3.jpg", "results-bob");
    body["Services"] = json!({"face": ""});
    let job = api.submit(&bob, &body).await;
    assert_eq!(
        api.wait_for(&bob, &job, &["completed", "failed"]).await["Status"],
        "completed"
    );
    let doc = s.metadata(&bob, &job).await;
    assert_eq!(doc["message_payload"]["faces"]["people"][0]["known"], false);

    // Deleting the person forgets every photo: Alice's next job no longer knows him.
    let gone = api
        .call("DELETE", &format!("/faces/{id}"), Some(&alice), None, &[])
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    assert_eq!(api.get("/faces", &alice).await.body["Faces"], json!([]));
    assert_eq!(people(&s, &alice, "obama_3.jpg").await[0]["known"], false);
    // Biometric data stays out of the logs.
    assert!(!s.logs().contains("Barack Obama"), "{}", s.logs());
}

#[tokio::test]
async fn enrolment_refuses_photos_that_do_not_show_exactly_one_face() {
    let (s, alice) = start_with_results();
    let viewer = s.create_key("alice", true);
    s.upload(&alice, "media", "group.jpg", &picture("face_group_six.jpg"));
    s.upload(&alice, "media", "sign.jpg", &picture("ocr_scene_hotel.jpg"));
    s.upload(&alice, "media", "speech.wav", &recording("speech_de.wav"));
    s.upload(&alice, "media", "obama.jpg", &picture("face_obama_1.jpg"));
    let api = s.client();
    let refused = |body: Value| {
        let (api, alice) = (&api, &alice);
        async move { api.refused("/faces", alice, &body).await }
    };
    assert!(refused(enrol_body("Friends", "group.jpg"))
        .await
        .contains("shows 6 faces"));
    assert!(refused(enrol_body("Sign", "sign.jpg"))
        .await
        .contains("no face"));
    assert!(refused(enrol_body("Voice", "speech.wav"))
        .await
        .contains("must be an image"));
    assert!(refused(enrol_body("Nobody", "missing.jpg"))
        .await
        .contains("missing.jpg"));
    assert!(
        refused(json!({"Source": {"Bucket": "media", "ObjectKey": "obama.jpg"}}))
            .await
            .contains("Name is required")
    );
    assert!(refused(json!({"Name": "x", "Photo": "obama.jpg"}))
        .await
        .contains("Photo"));
    assert_eq!(
        api.post("/faces", &viewer, &enrol_body("Barack Obama", "obama.jpg"))
            .await
            .status,
        403
    );
    assert_eq!(
        api.get("/faces", &alice).await.body["Faces"],
        json!([]),
        "nothing was enrolled"
    );
}
