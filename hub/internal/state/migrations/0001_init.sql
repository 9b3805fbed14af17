-- Projects, registration keys, hosts, the command queue, events and the
-- inventory the provider stream carries. Portable SQL: TEXT, INTEGER and
-- standard constraints only; times are unix seconds; hashes are hex text.

CREATE TABLE projects (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE registration_keys (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL REFERENCES projects (id),
    secret_hash    TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('unused', 'redeemed', 'revoked')),
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    redeemed_by    TEXT,
    redeemed_at    INTEGER,
    bound_key_hash TEXT
);

CREATE INDEX registration_keys_project ON registration_keys (project_id);

CREATE TABLE hosts (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id),
    key_id          TEXT NOT NULL REFERENCES registration_keys (id),
    hostname        TEXT NOT NULL,
    public_key_hash TEXT NOT NULL,
    cert_serial     TEXT NOT NULL,
    cert_not_after  INTEGER NOT NULL,
    revoked         INTEGER NOT NULL DEFAULT 0,
    revoked_at      INTEGER,
    created_at      INTEGER NOT NULL,
    last_seen       INTEGER
);

CREATE INDEX hosts_project ON hosts (project_id);

CREATE TABLE commands (
    host_id    TEXT NOT NULL REFERENCES hosts (id),
    id         TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    payload    BLOB NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'acked')),
    created_at INTEGER NOT NULL,
    acked_at   INTEGER,
    PRIMARY KEY (host_id, id)
);

CREATE INDEX commands_pending ON commands (host_id, state, seq);

CREATE TABLE events (
    host_id     TEXT NOT NULL REFERENCES hosts (id),
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payload     BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (host_id, id)
);

CREATE TABLE vms (
    id          TEXT PRIMARY KEY,
    host_id     TEXT NOT NULL REFERENCES hosts (id),
    name        TEXT NOT NULL,
    power_state TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE INDEX vms_host ON vms (host_id);

CREATE TABLE disks (
    vm_id      TEXT NOT NULL REFERENCES vms (id),
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    PRIMARY KEY (vm_id, id)
);
