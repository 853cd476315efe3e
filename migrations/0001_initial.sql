-- spoor's index, first version. Everything the API serves comes from here.
-- Burr's names are kept where they mean the same thing; its bugs are not (see
-- ../shared/spec/burr-compat.md section 3): the project is part of an application's identity,
-- object keys are unique (nothing is indexed twice), and watermarks live per project.

CREATE TABLE project (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    uri           TEXT,
    created_at    TEXT NOT NULL,           -- ISO 8601 UTC
    last_written  TEXT,                    -- newest object seen
    watermark     TEXT NOT NULL DEFAULT '' -- largest key taken, in the caller's key space
);

CREATE TABLE application (
    id                   INTEGER PRIMARY KEY,
    project_id           INTEGER NOT NULL REFERENCES project(id) ON DELETE CASCADE,
    app_id               TEXT NOT NULL,
    partition_key        TEXT NOT NULL,    -- '__none__' when there is none, as in the keys
    graph_json           TEXT,             -- body of the newest graph.json
    graph_key            TEXT,
    metadata_json        TEXT,             -- body of the newest metadata.json
    parent_app_id        TEXT,
    parent_partition_key TEXT,
    parent_sequence_id   INTEGER,
    spawn_app_id         TEXT,
    spawn_partition_key  TEXT,
    spawn_sequence_id    INTEGER,
    first_written        TEXT NOT NULL,
    last_written         TEXT NOT NULL,
    num_steps            INTEGER NOT NULL DEFAULT 0,
    UNIQUE (project_id, app_id, partition_key)
);
CREATE INDEX application_last_written ON application(project_id, last_written);

-- Every object indexed, once. A key here is never indexed again.
CREATE TABLE object (
    id              INTEGER PRIMARY KEY,
    project_id      INTEGER NOT NULL REFERENCES project(id) ON DELETE CASCADE,
    key             TEXT NOT NULL UNIQUE,
    application_id  INTEGER REFERENCES application(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('graph', 'metadata', 'log', 'skipped')),
    size            INTEGER,
    last_modified   TEXT,
    tracker_id      TEXT,
    min_sequence_id INTEGER,
    max_sequence_id INTEGER,
    events          INTEGER NOT NULL DEFAULT 0,
    skipped_lines   INTEGER NOT NULL DEFAULT 0,
    indexed_at      TEXT NOT NULL
);

-- Every event line, verbatim, with typed columns for ordering and lookup.
CREATE TABLE event (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES application(id) ON DELETE CASCADE,
    object_id      INTEGER NOT NULL REFERENCES object(id) ON DELETE CASCADE,
    line_no        INTEGER NOT NULL,
    type           TEXT NOT NULL,
    sequence_id    INTEGER,
    span_id        TEXT,
    time           TEXT,
    raw            TEXT NOT NULL,
    UNIQUE (object_id, line_no)
);
CREATE INDEX event_app_seq ON event(application_id, sequence_id, id);

-- Burr's local children.jsonl lines.
CREATE TABLE child (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES application(id) ON DELETE CASCADE,
    raw            TEXT NOT NULL,
    UNIQUE (application_id, raw)
);

CREATE TABLE annotation (
    id               INTEGER PRIMARY KEY,
    project_id       INTEGER NOT NULL REFERENCES project(id) ON DELETE CASCADE,
    app_id           TEXT NOT NULL,
    partition_key    TEXT,
    step_sequence_id INTEGER NOT NULL,
    span_id          TEXT,
    step_name        TEXT NOT NULL,
    tags             TEXT NOT NULL DEFAULT '[]',  -- JSON
    observations     TEXT NOT NULL DEFAULT '[]',  -- JSON
    created          TEXT NOT NULL,
    updated          TEXT NOT NULL
);
CREATE INDEX annotation_app ON annotation(project_id, app_id, partition_key);

-- One row per project per indexing tick.
CREATE TABLE indexing_job (
    id                INTEGER PRIMARY KEY,
    project_id        INTEGER REFERENCES project(id) ON DELETE CASCADE,
    start_time        TEXT NOT NULL,
    end_time          TEXT,
    status            TEXT NOT NULL CHECK (status IN ('RUNNING', 'SUCCESS', 'FAILURE')),
    records_processed INTEGER NOT NULL DEFAULT 0,
    skipped           INTEGER NOT NULL DEFAULT 0,
    watermark         TEXT,
    error             TEXT
);

-- What was skipped, by reason (malformed key, invalid UTF-8, bad JSON line, ...).
CREATE TABLE skipped (
    reason TEXT PRIMARY KEY,
    count  INTEGER NOT NULL
);

CREATE TABLE server_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
