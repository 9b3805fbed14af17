-- Events are pruned per host by age (see Store.PruneEvents): find a host's
-- newest events and delete its old ones without scanning the table.

CREATE INDEX events_host_received ON events (host_id, received_at);
