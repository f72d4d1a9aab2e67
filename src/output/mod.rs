//! Output: the metadata file of a job, its key layout, its side files (captions), and its
//! check against the JSON Schema that ships with the project.

pub mod captions;

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use crate::analysers::{Analysis, Outcome, ServiceRun};
use crate::jobs::model::JobRecord;
use crate::media::MediaInfo;

pub const SCHEMA: &str = include_str!("../../schema/metadata.schema.json");

/// `Commercial` for `MP4/Commercial.mp4`.
pub fn basename(object_key: &str) -> String {
    let last = object_key
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(object_key);
    match last.rfind('.') {
        Some(i) if i > 0 => last[..i].to_string(),
        _ => last.to_string(),
    }
}

/// `<prefix>/<YYYY_MM_DD>/<job_id>`.
pub fn output_folder(prefix: &str, finished_ms: i64, job_id: &str) -> String {
    format!(
        "{prefix}/{}/{job_id}",
        crate::time::date_folder(finished_ms)
    )
}

/// Key of the metadata file inside `folder`.
pub fn metadata_key(folder: &str, object_key: &str) -> String {
    format!("{folder}/{}_metadata.json", basename(object_key))
}

/// Folder of a metadata key.
pub fn folder_of(key: &str) -> &str {
    key.rsplit_once('/').map(|(f, _)| f).unwrap_or("")
}

/// Where the source was read from, for `object_path`.
pub fn object_path(job: &JobRecord) -> String {
    format!("s3://{}/{}", job.source.bucket, job.source.object_key)
}

pub struct MetadataInput<'a> {
    pub job: &'a JobRecord,
    pub media: &'a MediaInfo,
    pub analysis: &'a Analysis,
    pub metadata_key: &'a str,
}

/// The metadata document.
pub fn build(input: &MetadataInput) -> Value {
    let job = input.job;
    let runs = &input.analysis.runs;
    let failed_services = failed_count(runs);
    let message = if failed_services > 0 {
        "Processing completed with errors"
    } else {
        "Processing successful"
    };
    let mut payload = Map::new();
    payload.insert(
        "job_metadata".into(),
        json!({
            "job_id": job.id,
            "name": job.name,
            "batch": job.batch,
            "object_key": job.source.object_key,
            "object_path": object_path(job),
            "output_destination": folder_of(input.metadata_key),
            "destination_path": format!("s3://{}/{}", job.destination.bucket, input.metadata_key),
            "processing_date": crate::time::rfc3339_now_nanos(),
            "airtime_duration": input.media.airtime(),
            "status": "completed",
            "engine_version": crate::ENGINE_VERSION,
        }),
    );
    let services: Vec<Value> = runs
        .iter()
        .map(|r| {
            let (status, error) = match &r.outcome {
                Outcome::Completed(..) => ("completed", None),
                Outcome::Failed(e) => ("failed", Some(e.clone())),
                Outcome::Skipped(e) => ("skipped", Some(e.clone())),
            };
            json!({
                "service_name": format!("air_{}", r.service),
                "service_version": r.version,
                "service_start": r.start,
                "service_end": r.end,
                "status": status,
                "error": error,
            })
        })
        .collect();
    payload.insert("services".into(), Value::Array(services));
    payload.insert(
        "technical_metadata".into(),
        serde_json::to_value(input.media).expect("media info serialises"),
    );
    if let Some(shots) = &input.analysis.shots {
        payload.insert(
            "shots".into(),
            serde_json::to_value(shots).expect("shots serialise"),
        );
    }
    for run in runs {
        if let Outcome::Completed(key, section) = &run.outcome {
            payload.insert((*key).to_string(), section.clone());
        }
    }
    json!({
        "job_id": job.id,
        "message": message,
        "message_payload": Value::Object(payload),
    })
}

/// The caption files of a finished document, when it has a transcript and the job wants
/// them; their keys (beside `metadata_key`) go into the transcript's `captions`.
pub fn side_files(doc: &mut Value, job: &JobRecord, metadata_key: &str) -> Vec<captions::SideFile> {
    let wanted = crate::jobs::services::parse_services(&job.services)
        .ok()
        .and_then(|c| c.s2t)
        .is_some_and(|c| c.captions);
    let Some(section) = doc["message_payload"].get_mut("speech_to_text") else {
        return Vec::new();
    };
    if !wanted {
        return Vec::new();
    }
    let language = section["language"].as_str().unwrap_or_default();
    let cues = captions::cues(section, crate::analysers::s2t::joiner(language));
    let stem = format!(
        "{}/{}",
        folder_of(metadata_key),
        basename(&job.source.object_key)
    );
    let files = vec![
        captions::SideFile {
            key: format!("{stem}.vtt"),
            body: captions::vtt(&cues).into_bytes(),
            content_type: "text/vtt; charset=utf-8",
        },
        captions::SideFile {
            key: format!("{stem}.srt"),
            body: captions::srt(&cues).into_bytes(),
            content_type: "application/x-subrip; charset=utf-8",
        },
    ];
    section["captions"] = json!({"vtt": files[0].key, "srt": files[1].key});
    files
}

/// Count of services that failed.
pub fn failed_count(runs: &[ServiceRun]) -> i64 {
    runs.iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .count() as i64
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).expect("the shipped schema is JSON");
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the shipped schema is valid")
    })
}

/// Check a document against the shipped schema; the error lists every violation.
pub fn validate(doc: &Value) -> Result<(), String> {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_layout_matches_the_contract() {
        assert_eq!(basename("MP4/Commercial.mp4"), "Commercial");
        assert_eq!(basename("noext"), "noext");
        assert_eq!(basename("a/.hidden"), ".hidden");
        assert_eq!(basename("a/b.c.pdf"), "b.c");
        let folder = output_folder("jobs", 1_751_043_580_984, "abc");
        assert_eq!(folder, "jobs/2025_06_27/abc");
        let key = metadata_key(&folder, "MP4/Commercial.mp4");
        assert_eq!(key, "jobs/2025_06_27/abc/Commercial_metadata.json");
        assert_eq!(folder_of(&key), folder);
    }

    #[test]
    fn schema_rejects_a_broken_document() {
        let doc = json!({"job_id": "x", "message": "nope", "message_payload": {}});
        let err = validate(&doc).unwrap_err();
        assert!(err.contains("job_id") || err.contains("pattern"), "{err}");
    }
}
