-- Replication of VMs: the policy and progress of each replicated VM, its
-- disks' initial copy, the cycle manifests hosts reported, the recovery
-- points taken, the hosts' last health report, and the steps of test
-- migrations and migrations. No foreign key to vms: a host's inventory is
-- replaced wholesale on every report.

CREATE TABLE replications (
    vm_id            TEXT PRIMARY KEY,
    host_id          TEXT NOT NULL REFERENCES hosts (id),
    project_id       TEXT NOT NULL REFERENCES projects (id),
    name             TEXT NOT NULL,
    state            TEXT NOT NULL,
    generation       INTEGER NOT NULL,
    interval_seconds INTEGER NOT NULL,
    threads          INTEGER NOT NULL,
    keep_latest      INTEGER NOT NULL,
    keep_window_s    INTEGER NOT NULL,
    keep_interval_s  INTEGER NOT NULL,
    applied_cycle    INTEGER NOT NULL DEFAULT 0,
    applied_at       INTEGER,
    switched_ms      INTEGER,
    granted_through  INTEGER NOT NULL DEFAULT 0,
    grants_expire_at INTEGER,
    health           TEXT NOT NULL DEFAULT 'ok',
    health_message   TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE TABLE replication_disks (
    vm_id       TEXT NOT NULL REFERENCES replications (vm_id),
    disk_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    size_bytes  INTEGER NOT NULL,
    phase       TEXT NOT NULL DEFAULT '',
    done_bytes  INTEGER NOT NULL DEFAULT 0,
    total_bytes INTEGER NOT NULL DEFAULT 0,
    progress_at INTEGER,
    PRIMARY KEY (vm_id, disk_id)
);

CREATE TABLE cycle_manifests (
    vm_id       TEXT NOT NULL REFERENCES replications (vm_id),
    cycle       INTEGER NOT NULL,
    switched_ms INTEGER NOT NULL,
    disks       TEXT NOT NULL,
    total_bytes INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (vm_id, cycle)
);

CREATE TABLE recovery_points (
    vm_id       TEXT NOT NULL,
    cycle       INTEGER NOT NULL,
    taken_at    INTEGER NOT NULL,
    consistency INTEGER NOT NULL,
    state       INTEGER NOT NULL,
    disks       TEXT NOT NULL,
    PRIMARY KEY (vm_id, cycle)
);

CREATE TABLE host_health (
    host_id    TEXT PRIMARY KEY REFERENCES hosts (id),
    status     TEXT NOT NULL,
    message    TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE host_throttles (
    host_id      TEXT PRIMARY KEY REFERENCES hosts (id),
    work_bps     INTEGER NOT NULL,
    off_bps      INTEGER NOT NULL,
    work_start   TEXT NOT NULL,
    work_end     TEXT NOT NULL,
    command_id   TEXT NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE operations (
    id         TEXT PRIMARY KEY,
    vm_id      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    step       TEXT NOT NULL,
    detail     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX operations_vm ON operations (vm_id, kind);
