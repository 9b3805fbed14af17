-- The hardware of each inventoried VM, for the VM definition that test
-- migration and migration write: generation (1 or 2), virtual processors,
-- startup memory, and its network adapters in the host's order. 0 means
-- the host did not report it (hosts from before this change).

ALTER TABLE vms ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vms ADD COLUMN vcpus INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vms ADD COLUMN memory_bytes INTEGER NOT NULL DEFAULT 0;

CREATE TABLE vm_nics (
    vm_id       TEXT NOT NULL REFERENCES vms (id),
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    switch_name TEXT NOT NULL,
    mac_address TEXT NOT NULL,
    PRIMARY KEY (vm_id, position)
);
