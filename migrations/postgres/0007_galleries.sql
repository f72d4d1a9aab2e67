-- One schema for every gallery a user keeps (kind 'face': people, 'logo': logos): the named
-- entries, and the items enrolled for each (a face's sealed embedding, a logo image's
-- features). The face tables of 0006 move here unchanged, less photos whose person is gone
-- (nothing could read or delete them).
CREATE TABLE gallery_entries (
    id       TEXT PRIMARY KEY,
    user_id  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    name     TEXT NOT NULL,
    created  BIGINT NOT NULL,
    UNIQUE (user_id, kind, name)
);

CREATE TABLE gallery_items (
    id        TEXT PRIMARY KEY,
    entry_id  TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    kind      TEXT NOT NULL,
    payload   BYTEA NOT NULL,
    created   BIGINT NOT NULL
);
CREATE INDEX gallery_items_entry ON gallery_items (entry_id);
CREATE INDEX gallery_items_user ON gallery_items (user_id, kind);

INSERT INTO gallery_entries (id, user_id, kind, name, created)
    SELECT id, user_id, 'face', name, created FROM face_people;
INSERT INTO gallery_items (id, entry_id, user_id, kind, payload, created)
    SELECT id, person_id, user_id, 'face', embedding_sealed, created FROM face_photos
    WHERE person_id IN (SELECT id FROM face_people);
DROP TABLE face_photos;
DROP TABLE face_people;
