//! Galleries: the people (`face`) and logos (`logo`) a user enrols from images in their
//! storage, which the services of that user's jobs name. Face embeddings are biometric data:
//! sealed with the master key at rest, read only for their owner, removed with the person,
//! and never logged. Logo features are computed once, here, so jobs only index them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use super::ops::Principal;
use super::request::{parse_object, validate_name, validate_source, RequestError, SourceBody};
use crate::analysers::face::{self, Dlib, Embedding, KnownFace};
use crate::analysers::logo::{EnrolError, KnownLogo, Reference};
use crate::analysers::pipeline::ComputePool;
use crate::config::Config;
use crate::crypto::MasterKey;
use crate::media::sniff::{sniff, SNIFF_LEN};
use crate::media::MediaType;
use crate::storage::{Bucket, StorageError};
use crate::store::{GalleryEntry, GalleryKind, NewGalleryItem, Store, StoreError};

/// Largest image accepted for enrolment.
pub const MAX_PHOTO_BYTES: u64 = 50 << 20;

/// `POST /faces` and `POST /logos` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct EnrolBody {
    /// The person's or logo's name, 1..256 characters; images enrolled under one name are
    /// one person (one logo).
    pub name: Option<String>,
    /// A photo showing that person alone, or a reference image of the logo.
    pub source: Option<SourceBody>,
}

#[derive(Debug, thiserror::Error)]
pub enum GalleryError {
    /// The request or the photo cannot be enrolled as it is.
    #[error("{0}")]
    Invalid(String),
    #[error("no such {} in your {} gallery", entry_word(*.0), .0.as_str())]
    NotFound(GalleryKind),
    /// The photo's storage is unreachable for now.
    #[error("{0}")]
    Unavailable(String),
    /// This server cannot enrol into this gallery (its models are missing).
    #[error("{1}")]
    Broken(GalleryKind, String),
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

fn entry_word(kind: GalleryKind) -> &'static str {
    match kind {
        GalleryKind::Faces => "person",
        GalleryKind::Logos => "logo",
    }
}

pub struct Galleries {
    pub store: Arc<dyn Store>,
    pub master_key: MasterKey,
    pub config: Arc<Config>,
    /// dlib's models, loaded by the first face enrolment and kept.
    dlib: Arc<Mutex<Option<Dlib>>>,
}

impl Galleries {
    pub fn new(store: Arc<dyn Store>, master_key: MasterKey, config: Arc<Config>) -> Galleries {
        Galleries {
            store,
            master_key,
            config,
            dlib: Arc::default(),
        }
    }

    /// Enrol one image under a name: a new entry, or one more image of it. A face photo must
    /// show exactly one face; a logo image must have enough detail to be matched.
    pub async fn enrol(
        &self,
        kind: GalleryKind,
        who: &Principal,
        body: &[u8],
    ) -> Result<GalleryEntry, GalleryError> {
        let raw: EnrolBody = parse_object(body)?;
        let name = validate_name(raw.name)?;
        let (source, keys) = validate_source(raw.source)?;
        let keys = keys.unwrap_or_else(|| (who.access_key.clone(), who.secret_key.clone()));
        let bucket = Bucket::open(&source.location(keys, &self.config), &self.config.storage)?;
        let key = &source.object_key;
        let mut object = bucket.get(key).await?;
        let size = object.size;
        if size == 0 || size > MAX_PHOTO_BYTES {
            return Err(GalleryError::Invalid(format!(
                "Source: the image is {size} bytes; a gallery image must be 1 to {MAX_PHOTO_BYTES} bytes"
            )));
        }
        let cancel = tokio_util::sync::CancellationToken::new();
        match sniff(object.first_bytes(SNIFF_LEN as usize, &cancel).await?) {
            Ok(s) if s.media_type == MediaType::Image => {}
            Ok(s) => {
                return Err(GalleryError::Invalid(format!(
                    "Source: a gallery image must be an image, not {}",
                    s.mime
                )))
            }
            Err(e) => return Err(GalleryError::Invalid(format!("Source: {e}"))),
        }
        let tmp_root = self.config.data_dir.join("tmp");
        let dir = std::fs::create_dir_all(&tmp_root)
            .and_then(|()| tempfile::tempdir_in(&tmp_root))
            .map_err(|e| GalleryError::Broken(kind, format!("work directory: {e}")))?;
        let path = dir.path().join("image");
        let got = object.save(&path, &cancel).await?;
        if got > MAX_PHOTO_BYTES {
            return Err(GalleryError::Invalid(format!(
                "Source: the image grew to {got} bytes while reading it; at most {MAX_PHOTO_BYTES}"
            )));
        }
        let models = self.config.models_dir();
        let dlib = self.dlib.clone();
        let payload = tokio::task::spawn_blocking(move || match kind {
            GalleryKind::Faces => face_payload(&dlib, &models, &path),
            GalleryKind::Logos => ComputePool::global().run(|| logo_payload(&path)),
        })
        .await
        .map_err(|e| GalleryError::Broken(kind, format!("enrolment crashed: {e}")))??;
        drop(dir);
        let payload = match kind {
            GalleryKind::Faces => self.master_key.seal(&payload),
            GalleryKind::Logos => payload,
        };
        let item = NewGalleryItem {
            kind,
            user_id: who.user_id.clone(),
            name,
            new_entry_id: uuid::Uuid::now_v7().simple().to_string(),
            item_id: uuid::Uuid::now_v7().simple().to_string(),
            payload,
            created_ms: crate::time::now_ms(),
        };
        Ok(self.store.add_gallery_item(&item).await?)
    }

    pub async fn list(
        &self,
        kind: GalleryKind,
        who: &Principal,
    ) -> Result<Vec<GalleryEntry>, GalleryError> {
        Ok(self.store.list_gallery(kind, &who.user_id).await?)
    }

    /// Remove an entry and every image enrolled for it.
    pub async fn delete(
        &self,
        kind: GalleryKind,
        who: &Principal,
        id: &str,
    ) -> Result<(), GalleryError> {
        match self
            .store
            .delete_gallery_entry(kind, &who.user_id, id)
            .await?
        {
            true => Ok(()),
            false => Err(GalleryError::NotFound(kind)),
        }
    }
}

/// The embedding of the one face of a photo, as bytes. The shared dlib is taken before a
/// compute permit, so enrolments waiting for it hold no core that jobs could use.
fn face_payload(
    dlib: &Mutex<Option<Dlib>>,
    models: &Path,
    photo: &Path,
) -> Result<Vec<u8>, GalleryError> {
    // An enrolment that panicked may have left dlib half-way: load it afresh.
    let mut slot = dlib.lock().unwrap_or_else(|poisoned| {
        let mut slot = poisoned.into_inner();
        *slot = None;
        slot
    });
    ComputePool::global().run(|| {
        if slot.is_none() {
            let loaded = Dlib::load(models)
                .map_err(|e| GalleryError::Broken(GalleryKind::Faces, e.to_string()))?;
            *slot = Some(loaded);
        }
        let dlib = slot.as_mut().expect("loaded above");
        face::enrol(dlib, photo)
            .map(|e| e.to_bytes())
            .map_err(|e| GalleryError::Invalid(format!("Source: {e}")))
    })
}

/// The features of a logo's reference image, as bytes.
fn logo_payload(image: &Path) -> Result<Vec<u8>, GalleryError> {
    let decoded = crate::media::image::load(image)
        .map_err(|e| GalleryError::Invalid(format!("Source: {e}")))?;
    Reference::describe(&decoded)
        .map(|r| r.to_bytes())
        .map_err(|e| match e {
            EnrolError::Failed(m) => GalleryError::Broken(GalleryKind::Logos, m),
            refused => GalleryError::Invalid(format!("Source: {refused}")),
        })
}

#[derive(Debug, thiserror::Error)]
pub enum GalleryReadError {
    /// Worth another attempt later.
    #[error("reading a gallery: {0}")]
    Store(#[from] StoreError),
    #[error("the face gallery cannot be opened with this server's master key")]
    Sealed,
    #[error("the logo gallery has an unreadable entry ({0}); delete that logo and enrol it again")]
    Unreadable(String),
}

/// A user's gallery as a job matches against it.
pub async fn known_faces(
    store: &dyn Store,
    master_key: &MasterKey,
    user_id: &str,
) -> Result<Vec<KnownFace>, GalleryReadError> {
    let rows = store.gallery_items(GalleryKind::Faces, user_id).await?;
    rows.into_iter()
        .map(|item| {
            let name = item.name;
            let embedding = master_key
                .open(&item.payload)
                .ok()
                .and_then(|plain| Embedding::from_bytes(&plain))
                .ok_or(GalleryReadError::Sealed)?;
            Ok(KnownFace { name, embedding })
        })
        .collect()
}

/// A user's logo gallery as a job matches against it: each logo with all its references.
pub async fn known_logos(
    store: &dyn Store,
    user_id: &str,
) -> Result<Vec<KnownLogo>, GalleryReadError> {
    let mut logos: Vec<KnownLogo> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for item in store.gallery_items(GalleryKind::Logos, user_id).await? {
        let reference = Reference::from_bytes(&item.payload)
            .map_err(|_| GalleryReadError::Unreadable(item.name.clone()))?;
        let i = *at.entry(item.entry_id.clone()).or_insert_with(|| {
            logos.push(KnownLogo {
                id: item.entry_id,
                name: item.name,
                references: Vec::new(),
            });
            logos.len() - 1
        });
        logos[i].references.push(reference);
    }
    Ok(logos)
}
