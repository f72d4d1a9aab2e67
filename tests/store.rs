//! Store contract: claim order (priority, fairness, age), leases, attempt fencing and the
//! write-once output reservation. Every test runs against a real SQLite file and against a
//! real PostgreSQL server started for it.

mod common;

use std::sync::Arc;

use airscope::jobs::model::{Destination, Source, Status};
use airscope::store::{self, Finish, NewJob, Store};

/// Keeps the backing database alive for the test.
#[allow(dead_code)]
enum Backing {
    Sqlite(tempfile::TempDir),
    Postgres(common::postgres::Postgres),
}

async fn open(backend: &str) -> (Backing, Arc<dyn Store>) {
    let (backing, _, s) = open_with_url(backend).await;
    (backing, s)
}

async fn open_with_url(backend: &str) -> (Backing, String, Arc<dyn Store>) {
    let (backing, url) = if backend == "sqlite" {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        (Backing::Sqlite(dir), url)
    } else {
        let pg = common::postgres::Postgres::start();
        let url = pg.url.clone();
        (Backing::Postgres(pg), url)
    };
    let s = store::open(&url, store::DEFAULT_BUSY_TIMEOUT)
        .await
        .unwrap();
    (backing, url, s)
}

/// One `#[tokio::test]` per backend for each contract test.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name("sqlite").await })*
        }
        mod postgres_backend {
            $(#[tokio::test] async fn $name() { super::$name("postgres").await })*
        }
    };
}

on_both!(
    urgent_first_then_round_robin_between_users_then_oldest,
    expired_leases_are_taken_over_and_the_old_holder_is_fenced,
    a_busy_queue_looks_for_expired_leases_once_a_second,
    a_claim_lost_in_a_database_crash_cannot_share_its_lease,
    a_retry_reuses_the_output_key_of_an_earlier_attempt,
    jobs_that_keep_losing_their_lease_fail,
    retry_later_waits_for_not_before,
    idempotency_keys_return_the_first_job,
    galleries_belong_to_their_user_and_kind_and_deleting_an_entry_removes_every_item,
);

fn job(user: &str, name: &str, priority: i64, created_ms: i64) -> NewJob {
    NewJob {
        id: uuid::Uuid::now_v7().simple().to_string(),
        user_id: user.into(),
        name: name.into(),
        batch: None,
        priority,
        services: serde_json::json!({"pdf": ""}),
        source: Source {
            bucket: "b".into(),
            object_key: "k".into(),
            endpoint: None,
            region: None,
            provider: None,
        },
        destination: Destination {
            bucket: "d".into(),
            region: "r".into(),
            prefix: "jobs".into(),
        },
        notification_url: None,
        notify_secret: None,
        secrets: vec![1, 2, 3],
        created_ms,
    }
}

async fn claim_names(s: &Arc<dyn Store>, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        let c = s.claim(1_000_000, 30_000, 3).await.unwrap().unwrap();
        out.push(c.job.name.clone());
    }
    out
}

async fn urgent_first_then_round_robin_between_users_then_oldest(backend: &str) {
    let (_d, s) = open(backend).await;
    // Alice queues a batch first; Bob's jobs come later; one urgent job comes last.
    for i in 0..4 {
        s.insert_job(job("alice", &format!("a{i}"), 5, 100 + i), None)
            .await
            .unwrap();
    }
    for i in 0..2 {
        s.insert_job(job("bob", &format!("b{i}"), 5, 200 + i), None)
            .await
            .unwrap();
    }
    s.insert_job(job("carol", "urgent", 10, 300), None)
        .await
        .unwrap();
    s.insert_job(job("carol", "low", 1, 50), None)
        .await
        .unwrap();
    let order = claim_names(&s, 8).await;
    assert_eq!(order, ["urgent", "a0", "b0", "a1", "b1", "a2", "a3", "low"]);
    assert!(s.claim(1_000_000, 30_000, 3).await.unwrap().is_none());
}

async fn expired_leases_are_taken_over_and_the_old_holder_is_fenced(backend: &str) {
    let (_d, s) = open(backend).await;
    s.insert_job(job("alice", "j", 5, 1), None).await.unwrap();
    let first = s.claim(1_000, 5_000, 3).await.unwrap().unwrap();
    assert_eq!((first.lease.attempt, first.recovered), (1, false));
    assert_eq!(first.job.status, Status::Preflight);
    // Still leased: nobody else gets it.
    assert!(s.claim(3_000, 5_000, 3).await.unwrap().is_none());
    assert!(s.heartbeat(&first.lease, 9_000, 40).await.unwrap());
    assert!(s.heartbeat(&first.lease, 9_000, 20).await.unwrap());
    let j = s.get_job("alice", &first.job.id).await.unwrap().unwrap();
    assert_eq!(j.progress, 40, "progress never goes back");
    assert!(s.claim(8_000, 5_000, 3).await.unwrap().is_none());
    // The holder stalls past its lease: a second worker takes over.
    let second = s.claim(10_000, 5_000, 3).await.unwrap().unwrap();
    assert_eq!((second.lease.attempt, second.recovered), (2, true));
    assert!(!s.heartbeat(&first.lease, 20_000, 50).await.unwrap());
    assert!(!s
        .advance(&first.lease, Status::InProgress, 50)
        .await
        .unwrap());
    assert_eq!(s.reserve_output(&first.lease, "k1").await.unwrap(), None);
    let done = Finish {
        status: Status::Completed,
        error: None,
        error_count: 0,
        output_path: Some("s3://d/k".into()),
    };
    assert!(!s.finish(&first.lease, &done, 11_000).await.unwrap());
    // The current holder writes once, at the key it reserved.
    assert_eq!(
        s.reserve_output(&second.lease, "k2")
            .await
            .unwrap()
            .as_deref(),
        Some("k2")
    );
    assert!(s.finish(&second.lease, &done, 12_000).await.unwrap());
    let j = s.get_job("alice", &second.job.id).await.unwrap().unwrap();
    assert_eq!(
        (j.status, j.completed_ms),
        (Status::Completed, Some(12_000))
    );
}

async fn a_claim_lost_in_a_database_crash_cannot_share_its_lease(backend: &str) {
    let (_d, url, s) = open_with_url(backend).await;
    s.insert_job(job("alice", "j", 5, 1), None).await.unwrap();
    let first = s.claim(1_000, 5_000, 3).await.unwrap().unwrap();
    // The database loses the claim's commit (Postgres worker writes do not wait for the
    // disk): the row is as it was before, while the first worker runs on.
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query(
        "UPDATE jobs SET status = 'submitted', attempt = 0, lease_expires = NULL, \
         lease_token = NULL, started = NULL WHERE id = $1",
    )
    .bind(&first.job.id)
    .execute(&db)
    .await
    .unwrap();
    let second = s.claim(2_000, 5_000, 3).await.unwrap().unwrap();
    assert_eq!(
        second.lease.attempt, first.lease.attempt,
        "the same attempt"
    );
    assert!(!s.heartbeat(&first.lease, 9_000, 50).await.unwrap());
    assert_eq!(s.reserve_output(&first.lease, "k1").await.unwrap(), None);
    assert!(s.heartbeat(&second.lease, 9_000, 50).await.unwrap());
}

async fn a_retry_reuses_the_output_key_of_an_earlier_attempt(backend: &str) {
    let (_d, s) = open(backend).await;
    s.insert_job(job("alice", "j", 5, 1), None).await.unwrap();
    let first = s.claim(1_000, 5_000, 3).await.unwrap().unwrap();
    assert_eq!(
        s.reserve_output(&first.lease, "day1/key")
            .await
            .unwrap()
            .as_deref(),
        Some("day1/key")
    );
    // Crash after reserving: the next attempt is told where the file goes.
    let second = s.claim(10_000, 5_000, 3).await.unwrap().unwrap();
    assert_eq!(second.output_key.as_deref(), Some("day1/key"));
    assert_eq!(
        s.reserve_output(&second.lease, "day2/key")
            .await
            .unwrap()
            .as_deref(),
        Some("day1/key")
    );
    // Writing has begun: a cancel is refused rather than leaving a file behind.
    assert!(matches!(
        s.cancel_job("alice", &second.job.id, 11_000).await.unwrap(),
        airscope::store::CancelOutcome::InvalidState(_)
    ));
}

async fn jobs_that_keep_losing_their_lease_fail(backend: &str) {
    let (_d, s) = open(backend).await;
    s.insert_job(job("alice", "j", 5, 1), None).await.unwrap();
    let mut now = 1_000;
    for attempt in 1..=2 {
        let c = s.claim(now, 1_000, 2).await.unwrap().unwrap();
        assert_eq!(c.lease.attempt, attempt);
        now += 5_000;
    }
    assert!(s.claim(now, 1_000, 2).await.unwrap().is_none());
    let (jobs, _) = s
        .list_jobs(
            "alice",
            &airscope::store::ListQuery {
                page_number: 1,
                page_size: 10,
                status: Some(Status::Failed),
                batch: None,
                name: None,
                sort_by: airscope::store::SortBy::Created,
                descending: false,
                created_after_ms: None,
                created_before_ms: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0]
        .error
        .as_deref()
        .unwrap()
        .contains("interrupted 2 times"));
}

async fn a_busy_queue_looks_for_expired_leases_once_a_second(backend: &str) {
    let (_d, s) = open(backend).await;
    for (name, created) in [("a", 1), ("b", 2), ("c", 3), ("d", 4)] {
        s.insert_job(job("alice", name, 5, created), None)
            .await
            .unwrap();
    }
    let name = |c: &store::Claim| (c.job.name.clone(), c.recovered);
    let a = s.claim(1_000, 5_000, 3).await.unwrap().unwrap();
    assert_eq!(name(&a), ("a".into(), false));
    // Well past the last look: the expired job goes before the queued ones.
    let again = s.claim(10_000, 5_000, 3).await.unwrap().unwrap();
    assert_eq!(name(&again), ("a".into(), true));
    // b's lease ends at 10,200; 300 ms after the last look the queue is served first...
    let b = s.claim(10_100, 100, 3).await.unwrap().unwrap();
    assert_eq!(name(&b), ("b".into(), false));
    let c = s.claim(10_300, 5_000, 3).await.unwrap().unwrap();
    assert_eq!(name(&c), ("c".into(), false));
    // ...and a second after it, b is taken over before d.
    let b2 = s.claim(11_000, 5_000, 3).await.unwrap().unwrap();
    assert_eq!(name(&b2), ("b".into(), true));
    assert!(!s.heartbeat(&b.lease, 20_000, 10).await.unwrap());
}

async fn retry_later_waits_for_not_before(backend: &str) {
    let (_d, s) = open(backend).await;
    s.insert_job(job("alice", "j", 5, 1), None).await.unwrap();
    let c = s.claim(1_000, 5_000, 3).await.unwrap().unwrap();
    assert!(s.retry_later(&c.lease, 4_000).await.unwrap());
    assert!(s.claim(2_000, 5_000, 3).await.unwrap().is_none());
    let again = s.claim(4_000, 5_000, 3).await.unwrap().unwrap();
    assert_eq!((again.lease.attempt, again.recovered), (2, false));
}

async fn idempotency_keys_return_the_first_job(backend: &str) {
    let (_d, s) = open(backend).await;
    let key = || {
        Some(store::Idempotency {
            key: "k".into(),
            body_hash: "h1".into(),
        })
    };
    let first = match s.insert_job(job("alice", "a", 5, 1), key()).await.unwrap() {
        store::Inserted::Created(j) => j,
        other => panic!("{other:?}"),
    };
    match s.insert_job(job("alice", "b", 5, 2), key()).await.unwrap() {
        store::Inserted::Existing(j) => assert_eq!(j.id, first.id),
        other => panic!("{other:?}"),
    }
    let other_body = Some(store::Idempotency {
        key: "k".into(),
        body_hash: "h2".into(),
    });
    assert!(matches!(
        s.insert_job(job("alice", "c", 5, 3), other_body).await,
        Err(store::StoreError::IdempotencyMismatch)
    ));
}

async fn galleries_belong_to_their_user_and_kind_and_deleting_an_entry_removes_every_item(
    backend: &str,
) {
    use store::GalleryKind::{Faces, Logos};
    let (_d, s) = open(backend).await;
    let item = |kind: store::GalleryKind, user: &str, name: &str, n: u8| store::NewGalleryItem {
        kind,
        user_id: user.into(),
        name: name.into(),
        new_entry_id: format!("e-{user}-{name}-{n}"),
        item_id: format!("i-{user}-{name}-{n}"),
        payload: vec![n; 16],
        created_ms: i64::from(n),
    };
    let ada = s
        .add_gallery_item(&item(Faces, "alice", "Ada", 1))
        .await
        .unwrap();
    let again = s
        .add_gallery_item(&item(Faces, "alice", "Ada", 2))
        .await
        .unwrap();
    assert_eq!(
        (again.id.clone(), again.items),
        (ada.id.clone(), 2),
        "one person, two photos"
    );
    s.add_gallery_item(&item(Faces, "alice", "Grace", 3))
        .await
        .unwrap();
    let bobs = s
        .add_gallery_item(&item(Faces, "bob", "Ada", 4))
        .await
        .unwrap();
    assert_ne!(
        bobs.id, ada.id,
        "the same name of another user is another person"
    );
    let logo = s
        .add_gallery_item(&item(Logos, "alice", "Ada", 6))
        .await
        .unwrap();
    assert_ne!(logo.id, ada.id, "a logo is not a person of the same name");
    assert_eq!(logo.items, 1);

    let names = |entries: Vec<store::GalleryEntry>| -> Vec<(String, i64)> {
        entries.into_iter().map(|p| (p.name, p.items)).collect()
    };
    assert_eq!(
        names(s.list_gallery(Faces, "alice").await.unwrap()),
        [("Ada".to_string(), 2), ("Grace".to_string(), 1)]
    );
    assert_eq!(
        names(s.list_gallery(Logos, "alice").await.unwrap()),
        [("Ada".to_string(), 1)]
    );
    assert_eq!(s.gallery_items(Faces, "alice").await.unwrap().len(), 3);
    assert!(
        !s.delete_gallery_entry(Faces, "bob", &ada.id).await.unwrap(),
        "not bob's"
    );
    assert!(
        !s.delete_gallery_entry(Logos, "alice", &ada.id)
            .await
            .unwrap(),
        "not a logo"
    );
    assert!(s
        .delete_gallery_entry(Faces, "alice", &ada.id)
        .await
        .unwrap());
    assert!(
        !s.delete_gallery_entry(Faces, "alice", &ada.id)
            .await
            .unwrap(),
        "already gone"
    );
    let left = s.gallery_items(Faces, "alice").await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].name.as_str(), &left[0].payload),
        ("Grace", &vec![3u8; 16])
    );
    assert_eq!(s.gallery_items(Faces, "bob").await.unwrap().len(), 1);
    let logos = s.gallery_items(Logos, "alice").await.unwrap();
    assert_eq!(
        (logos.len(), logos[0].entry_id.as_str()),
        (1, logo.id.as_str())
    );
    // Enrolling under the deleted name starts a new person.
    let back = s
        .add_gallery_item(&item(Faces, "alice", "Ada", 5))
        .await
        .unwrap();
    assert_eq!(back.items, 1);
}

/// A face gallery enrolled before galleries shared one schema (migration 0007) is still there
/// after the upgrade, less photos whose person was already deleted.
#[tokio::test]
async fn face_galleries_survive_the_upgrade_to_shared_galleries() {
    use sqlx::Connection;
    use store::GalleryKind::Faces;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    {
        let mut conn = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc"))
            .await
            .unwrap();
        let all = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
        let mut before = sqlx::migrate::Migrator::new(std::path::Path::new(all))
            .await
            .unwrap();
        let up_to_0006: Vec<_> = before
            .migrations
            .iter()
            .filter(|m| m.version < 7)
            .cloned()
            .collect();
        assert_eq!(up_to_0006.len(), 6);
        before.migrations = up_to_0006.into();
        before.run(&mut conn).await.unwrap();
        for sql in [
            "INSERT INTO face_people VALUES ('p1', 'alice', 'Ada', 1)",
            "INSERT INTO face_photos VALUES ('f1', 'p1', 'alice', x'0102', 2)",
            "INSERT INTO face_photos VALUES ('f2', 'gone', 'alice', x'03', 3)",
        ] {
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
    }
    let s = store::open(&url, store::DEFAULT_BUSY_TIMEOUT)
        .await
        .unwrap();
    let items = s.gallery_items(Faces, "alice").await.unwrap();
    assert_eq!(items.len(), 1, "the orphaned photo is dropped");
    assert_eq!(
        (
            items[0].entry_id.as_str(),
            items[0].name.as_str(),
            &items[0].payload
        ),
        ("p1", "Ada", &vec![1u8, 2])
    );
    let people = s.list_gallery(Faces, "alice").await.unwrap();
    assert_eq!(
        people,
        [store::GalleryEntry {
            id: "p1".into(),
            name: "Ada".into(),
            items: 1,
            created_ms: 1
        }]
    );
}
