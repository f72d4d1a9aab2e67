//! The gallery endpoints: enrol a person from a photo or a logo from a reference image, list,
//! delete. Both galleries work alike; their documents name what they hold.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::{read_body, ApiError, ErrorBody};
use super::AppState;
use crate::store::{GalleryEntry, GalleryKind};
use crate::time::rfc3339_ms;

/// A person of the caller's face gallery.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct PersonView {
    pub id: String,
    pub name: String,
    /// Photos enrolled for this person.
    pub photos: i64,
    pub created_at: String,
}

/// A logo of the caller's logo gallery.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct LogoView {
    pub id: String,
    pub name: String,
    /// Reference images enrolled for this logo.
    pub images: i64,
    pub created_at: String,
}

impl From<GalleryEntry> for PersonView {
    fn from(e: GalleryEntry) -> Self {
        PersonView {
            id: e.id,
            name: e.name,
            photos: e.items,
            created_at: rfc3339_ms(e.created_ms),
        }
    }
}

impl From<GalleryEntry> for LogoView {
    fn from(e: GalleryEntry) -> Self {
        LogoView {
            id: e.id,
            name: e.name,
            images: e.items,
            created_at: rfc3339_ms(e.created_ms),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct PeopleView {
    pub faces: Vec<PersonView>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct LogosView {
    pub logos: Vec<LogoView>,
}

async fn enrol<V: From<GalleryEntry>>(
    state: &AppState,
    kind: GalleryKind,
    who: &crate::jobs::ops::Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<V>), ApiError> {
    let body = read_body(body, state.body_limit)?;
    let entry = state.galleries.enrol(kind, who, &body).await?;
    Ok((StatusCode::CREATED, Json(entry.into())))
}

async fn list<V: From<GalleryEntry>>(
    state: &AppState,
    kind: GalleryKind,
    who: &crate::jobs::ops::Principal,
) -> Result<Vec<V>, ApiError> {
    let entries = state.galleries.list(kind, who).await?;
    Ok(entries.into_iter().map(V::from).collect())
}

/// Enrol a photo of a person: the photo must show exactly one face. Photos under a name the
/// gallery already has are added to that person.
#[utoipa::path(post, path = "/faces", tag = "galleries",
    request_body = crate::jobs::gallery::EnrolBody,
    responses(
        (status = 201, body = PersonView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn enrol_face(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<PersonView>), ApiError> {
    enrol(&state, GalleryKind::Faces, &who, body).await
}

/// Enrol a reference image of a logo: a flat view of it, with enough detail to be matched
/// (a blank or tiny image is refused). Images under a name the gallery already has are added
/// to that logo.
#[utoipa::path(post, path = "/logos", tag = "galleries",
    request_body = crate::jobs::gallery::EnrolBody,
    responses(
        (status = 201, body = LogoView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn enrol_logo(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<LogoView>), ApiError> {
    enrol(&state, GalleryKind::Logos, &who, body).await
}

/// The caller's face gallery.
#[utoipa::path(get, path = "/faces", tag = "galleries",
    responses((status = 200, body = PeopleView), (status = 401, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn list_faces(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
) -> Result<Json<PeopleView>, ApiError> {
    let faces = list(&state, GalleryKind::Faces, &who).await?;
    Ok(Json(PeopleView { faces }))
}

/// The caller's logo gallery.
#[utoipa::path(get, path = "/logos", tag = "galleries",
    responses((status = 200, body = LogosView), (status = 401, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn list_logos(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
) -> Result<Json<LogosView>, ApiError> {
    let logos = list(&state, GalleryKind::Logos, &who).await?;
    Ok(Json(LogosView { logos }))
}

/// Remove a person and every photo enrolled for them.
#[utoipa::path(delete, path = "/faces/{Id}", tag = "galleries",
    params(("Id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn delete_face(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .galleries
        .delete(GalleryKind::Faces, &who, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a logo and every image enrolled for it.
#[utoipa::path(delete, path = "/logos/{Id}", tag = "galleries",
    params(("Id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn delete_logo(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .galleries
        .delete(GalleryKind::Logos, &who, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
