-- The dashboard schema for SQLite; see the PostgreSQL set for the rationale.
-- Time series are WITHOUT ROWID tables clustered on (vm_id, ts): "latest
-- sample of a VM" is one primary-key search.

CREATE TABLE organizations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE vms (
    id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    cpu_cores INTEGER NOT NULL,
    memory_mib INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    deleted_at_ms INTEGER
);
CREATE INDEX vms_live_by_org_name ON vms (organization_id, name, id) WHERE deleted_at_ms IS NULL;

CREATE TABLE vm_metrics (
    vm_id INTEGER NOT NULL REFERENCES vms (id),
    ts_ms INTEGER NOT NULL,
    cpu REAL NOT NULL,
    memory REAL NOT NULL,
    disk REAL NOT NULL,
    net_rx REAL NOT NULL,
    net_tx REAL NOT NULL,
    performance_score REAL,
    PRIMARY KEY (vm_id, ts_ms)
) WITHOUT ROWID;

CREATE TABLE vm_latest_metrics (
    vm_id INTEGER PRIMARY KEY REFERENCES vms (id),
    ts_ms INTEGER NOT NULL,
    cpu REAL NOT NULL,
    memory REAL NOT NULL,
    disk REAL NOT NULL,
    net_rx REAL NOT NULL,
    net_tx REAL NOT NULL,
    performance_score REAL
);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    vm_id INTEGER NOT NULL REFERENCES vms (id),
    severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 3),
    alert_type TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    created_at_ms INTEGER NOT NULL,
    resolved_at_ms INTEGER
);
CREATE INDEX alerts_active_by_vm ON alerts (vm_id, severity, alert_type) WHERE resolved_at_ms IS NULL;

CREATE TABLE performance_scores (
    vm_id INTEGER NOT NULL REFERENCES vms (id),
    calculated_at_ms INTEGER NOT NULL,
    overall REAL NOT NULL,
    efficiency REAL NOT NULL,
    reliability REAL NOT NULL,
    PRIMARY KEY (vm_id, calculated_at_ms)
) WITHOUT ROWID;
