//! Face galleries: the people a user enrols from photos in their storage, which the `face`
//! service of that user's jobs names. Embeddings are biometric data: sealed with the master
//! key at rest, read only for their owner, removed with the person, and never logged.

use std::sync::Arc;

use serde::Deserialize;

use super::ops::Principal;
use super::request::{parse_object, validate_name, validate_source, RequestError, SourceBody};
use crate::analysers::face::{self, Embedding, KnownFace};
use crate::analysers::pipeline::ComputePool;
use crate::config::Config;
use crate::crypto::MasterKey;
use crate::media::sniff::{sniff, SNIFF_LEN};
use crate::media::MediaType;
use crate::storage::{Bucket, StorageError};
use crate::store::{FacePerson, NewFacePhoto, Store, StoreError};

/// Largest photo accepted for enrolment.
pub const MAX_PHOTO_BYTES: u64 = 50 << 20;

/// `POST /faces` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct EnrolBody {
    /// The person's name, 1..256 characters; photos enrolled under one name are one person.
    pub name: Option<String>,
    /// A photo showing that person alone.
    pub source: Option<SourceBody>,
}

#[derive(Debug, thiserror::Error)]
pub enum GalleryError {
    /// The request or the photo cannot be enrolled as it is.
    #[error("{0}")]
    Invalid(String),
    #[error("no such person in your face gallery")]
    NotFound,
    /// The photo's storage is unreachable for now.
    #[error("{0}")]
    Unavailable(String),
    /// This server cannot embed faces (its models are missing).
    #[error("{0}")]
    Broken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RequestError> for GalleryError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Invalid(m) | RequestError::Unsupported(m) => GalleryError::Invalid(m),
        }
    }
}

impl From<StorageError> for GalleryError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Transient(m) => GalleryError::Unavailable(m),
            other => GalleryError::Invalid(format!("Source: {other}")),
        }
    }
}

pub struct FaceGallery {
    pub store: Arc<dyn Store>,
    pub master_key: MasterKey,
    pub config: Arc<Config>,
}

impl FaceGallery {
    /// Enrol the one face of a photo under a name (a new person, or one more photo of them).
    pub async fn enrol(&self, who: &Principal, body: &[u8]) -> Result<FacePerson, GalleryError> {
        let raw: EnrolBody = parse_object(body)?;
        let name = validate_name(raw.name)?;
        let (source, keys) = validate_source(raw.source)?;
        let keys = keys.unwrap_or_else(|| (who.access_key.clone(), who.secret_key.clone()));
        let bucket = Bucket::open(&source.location(keys, &self.config), &self.config.storage)?;
        let key = &source.object_key;
        let size = bucket.head(key).await?.size;
        if size == 0 || size > MAX_PHOTO_BYTES {
            return Err(GalleryError::Invalid(format!(
                "Source: the photo is {size} bytes; a gallery photo must be 1 to {MAX_PHOTO_BYTES} bytes"
            )));
        }
        let head = bucket.read_prefix(key, SNIFF_LEN.min(size)).await?;
        match sniff(&head) {
            Ok(s) if s.media_type == MediaType::Image => {}
            Ok(s) => {
                return Err(GalleryError::Invalid(format!(
                    "Source: a gallery photo must be an image, not {}",
                    s.mime
                )))
            }
            Err(e) => return Err(GalleryError::Invalid(format!("Source: {e}"))),
        }
        let tmp_root = self.config.data_dir.join("tmp");
        let dir = std::fs::create_dir_all(&tmp_root)
            .and_then(|()| tempfile::tempdir_in(&tmp_root))
            .map_err(|e| GalleryError::Broken(format!("work directory: {e}")))?;
        let path = dir.path().join("photo");
        let got = bucket
            .download(key, &path, &tokio_util::sync::CancellationToken::new())
            .await?;
        if got > MAX_PHOTO_BYTES {
            return Err(GalleryError::Invalid(format!(
                "Source: the photo grew to {got} bytes while reading it; at most {MAX_PHOTO_BYTES}"
            )));
        }
        let models = self.config.models_dir();
        let embedding = tokio::task::spawn_blocking(move || {
            ComputePool::global().run(|| -> Result<Embedding, GalleryError> {
                let mut dlib =
                    face::Dlib::load(&models).map_err(|e| GalleryError::Broken(e.to_string()))?;
                face::enrol(&mut dlib, &path)
                    .map_err(|e| GalleryError::Invalid(format!("Source: {e}")))
            })
        })
        .await
        .map_err(|e| GalleryError::Broken(format!("enrolment crashed: {e}")))??;
        drop(dir);
        let photo = NewFacePhoto {
            user_id: who.user_id.clone(),
            name,
            new_person_id: uuid::Uuid::now_v7().simple().to_string(),
            photo_id: uuid::Uuid::now_v7().simple().to_string(),
            embedding_sealed: self.master_key.seal(&embedding.to_bytes()),
            created_ms: crate::time::now_ms(),
        };
        Ok(self.store.add_face_photo(&photo).await?)
    }

    pub async fn list(&self, who: &Principal) -> Result<Vec<FacePerson>, GalleryError> {
        Ok(self.store.list_face_people(&who.user_id).await?)
    }

    /// Remove a person and every photo of them.
    pub async fn delete(&self, who: &Principal, id: &str) -> Result<(), GalleryError> {
        match self.store.delete_face_person(&who.user_id, id).await? {
            true => Ok(()),
            false => Err(GalleryError::NotFound),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GalleryReadError {
    /// Worth another attempt later.
    #[error("reading the face gallery: {0}")]
    Store(#[from] StoreError),
    #[error("the face gallery cannot be opened with this server's master key")]
    Sealed,
}

/// A user's gallery as a job matches against it.
pub async fn known_faces(
    store: &dyn Store,
    master_key: &MasterKey,
    user_id: &str,
) -> Result<Vec<KnownFace>, GalleryReadError> {
    let rows = store.face_gallery(user_id).await?;
    rows.into_iter()
        .map(|(name, sealed)| {
            let embedding = master_key
                .open(&sealed)
                .ok()
                .and_then(|plain| Embedding::from_bytes(&plain))
                .ok_or(GalleryReadError::Sealed)?;
            Ok(KnownFace { name, embedding })
        })
        .collect()
}
