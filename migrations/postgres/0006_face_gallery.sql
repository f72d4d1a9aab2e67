-- Face galleries: the people a user has enrolled, and one sealed embedding per photo of them.
-- Photos hold biometric data: they are sealed with the master key and only ever read for
-- their owner's jobs.
CREATE TABLE face_people (
    id       TEXT PRIMARY KEY,
    user_id  TEXT NOT NULL,
    name     TEXT NOT NULL,
    created  BIGINT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE face_photos (
    id               TEXT PRIMARY KEY,
    person_id        TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    embedding_sealed BYTEA NOT NULL,
    created          BIGINT NOT NULL
);
CREATE INDEX face_photos_person ON face_photos (person_id);
CREATE INDEX face_photos_user ON face_photos (user_id);
