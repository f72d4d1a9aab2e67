//! The face gallery endpoints: enrol a person from a photo, list, delete.

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
use crate::store::FacePerson;
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

impl From<FacePerson> for PersonView {
    fn from(p: FacePerson) -> Self {
        PersonView {
            id: p.id,
            name: p.name,
            photos: p.photos,
            created_at: rfc3339_ms(p.created_ms),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct PeopleView {
    pub faces: Vec<PersonView>,
}

/// Enrol a photo of a person: the photo must show exactly one face. Photos under a name the
/// gallery already has are added to that person.
#[utoipa::path(post, path = "/faces", tag = "faces",
    request_body = crate::jobs::gallery::EnrolBody,
    responses(
        (status = 201, body = PersonView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn enrol(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<PersonView>), ApiError> {
    let body = read_body(body, state.body_limit)?;
    let person = state.faces.enrol(&who, &body).await?;
    Ok((StatusCode::CREATED, Json(person.into())))
}

/// The caller's face gallery.
#[utoipa::path(get, path = "/faces", tag = "faces",
    responses((status = 200, body = PeopleView), (status = 401, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
) -> Result<Json<PeopleView>, ApiError> {
    let people = state.faces.list(&who).await?;
    Ok(Json(PeopleView {
        faces: people.into_iter().map(PersonView::from).collect(),
    }))
}

/// Remove a person and every photo enrolled for them.
#[utoipa::path(delete, path = "/faces/{Id}", tag = "faces",
    params(("Id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("access_key" = [], "secret_key" = [])))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.faces.delete(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
