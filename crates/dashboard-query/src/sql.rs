//! Every SQL statement, per backend. All are `&'static str` built from fixed
//! fragments at compile time; every value is a bind parameter.
//!
//! Parameters of the dashboard statements: 1 organization id (or the id
//! list), 2 status filter or NULL, 3 and 4 the (name, id) keyset of the
//! previous page's last row (`('', i64::MIN)` for the first page, so the
//! condition stays one sargable row comparison), 5 oldest metrics time,
//! 6 oldest score time, 7 row limit.

/// One backend's statements.
pub(crate) struct Sql {
    pub(crate) dashboard: &'static str,
    pub(crate) dashboard_latest: &'static str,
    pub(crate) dashboard_for_vms: &'static str,
    pub(crate) naive_vms: &'static str,
    pub(crate) naive_metrics: &'static str,
    pub(crate) naive_alerts: &'static str,
    pub(crate) naive_scores: &'static str,
    pub(crate) insert_organization: &'static str,
    pub(crate) insert_vm: &'static str,
    pub(crate) soft_delete_vm: &'static str,
    pub(crate) resolve_alert: &'static str,
    pub(crate) resolve_vm_alerts: &'static str,
}

// ---------------------------------------------------------------- PostgreSQL
// One index probe per VM (LATERAL … ORDER BY … DESC LIMIT 1), not DISTINCT
// ON or window functions, which read every sample of every VM. Alert types
// are concatenated unsorted (a DISTINCT … ORDER BY aggregate sets up a sort
// per VM); the client sorts and deduplicates them.

#[cfg(feature = "postgres")]
macro_rules! pg_columns {
    () => {
        "SELECT v.id, v.name, v.status, v.cpu_cores, v.memory_mib, v.created_at_ms, \
         m.ts_ms AS m_ts_ms, m.cpu AS m_cpu, m.memory AS m_memory, m.disk AS m_disk, \
         m.net_rx AS m_net_rx, m.net_tx AS m_net_tx, m.performance_score AS m_performance_score, \
         a.n AS active_alerts, a.max_severity, a.alert_types, \
         s.calculated_at_ms AS s_calculated_at_ms, s.overall AS s_overall, \
         s.efficiency AS s_efficiency, s.reliability AS s_reliability \
         FROM vms v "
    };
}
#[cfg(feature = "postgres")]
macro_rules! pg_history {
    () => {
        "LEFT JOIN LATERAL (SELECT mm.ts_ms, mm.cpu, mm.memory, mm.disk, mm.net_rx, mm.net_tx, mm.performance_score \
         FROM vm_metrics mm WHERE mm.vm_id = v.id AND mm.ts_ms >= $5 ORDER BY mm.ts_ms DESC LIMIT 1) m ON true "
    };
}
#[cfg(feature = "postgres")]
macro_rules! pg_latest {
    () => {
        "LEFT JOIN vm_latest_metrics m ON m.vm_id = v.id AND m.ts_ms >= $5 "
    };
}
#[cfg(feature = "postgres")]
macro_rules! pg_rest {
    () => {
        "LEFT JOIN LATERAL (SELECT count(*) AS n, max(al.severity) AS max_severity, \
         string_agg(al.alert_type, chr(31)) AS alert_types \
         FROM alerts al WHERE al.vm_id = v.id AND al.resolved_at_ms IS NULL) a ON true \
         LEFT JOIN LATERAL (SELECT ps.calculated_at_ms, ps.overall, ps.efficiency, ps.reliability \
         FROM performance_scores ps WHERE ps.vm_id = v.id AND ps.calculated_at_ms >= $6 \
         ORDER BY ps.calculated_at_ms DESC LIMIT 1) s ON true "
    };
}
// The page predicate, written once: live VMs, the status filter ($2), the
// keyset position ($3, $4), the order; the caller appends the limit.
#[cfg(feature = "postgres")]
macro_rules! pg_after {
    () => {
        "v.deleted_at_ms IS NULL \
         AND ($2::text IS NULL OR v.status = $2) \
         AND (v.name, v.id) > ($3, $4) \
         ORDER BY v.name, v.id LIMIT "
    };
}
#[cfg(feature = "postgres")]
macro_rules! pg_page {
    () => {
        concat!("WHERE v.organization_id = $1 AND ", pg_after!(), "$7")
    };
}

#[cfg(feature = "postgres")]
pub(crate) const POSTGRES: Sql = Sql {
    dashboard: concat!(pg_columns!(), pg_history!(), pg_rest!(), pg_page!()),
    dashboard_latest: concat!(pg_columns!(), pg_latest!(), pg_rest!(), pg_page!()),
    dashboard_for_vms: concat!(
        pg_columns!(),
        pg_history!(),
        pg_rest!(),
        "WHERE v.organization_id = $8 AND v.id = ANY($1) AND ",
        pg_after!(),
        "$7"
    ),
    naive_vms: concat!(
        "SELECT id, name, status, cpu_cores, memory_mib, created_at_ms FROM vms v \
         WHERE v.organization_id = $1 AND ",
        pg_after!(),
        "$5"
    ),
    naive_metrics: "SELECT ts_ms, cpu, memory, disk, net_rx, net_tx, performance_score FROM vm_metrics \
                    WHERE vm_id = $1 AND ts_ms >= $2 ORDER BY ts_ms DESC LIMIT 1",
    naive_alerts: "SELECT severity, alert_type FROM alerts WHERE vm_id = $1 AND resolved_at_ms IS NULL",
    naive_scores: "SELECT calculated_at_ms, overall, efficiency, reliability FROM performance_scores \
                   WHERE vm_id = $1 AND calculated_at_ms >= $2 ORDER BY calculated_at_ms DESC LIMIT 1",
    insert_organization: "INSERT INTO organizations (name) VALUES ($1) RETURNING id",
    insert_vm: "INSERT INTO vms (id, organization_id, name, status, cpu_cores, memory_mib, created_at_ms) \
                VALUES (COALESCE($1, nextval(pg_get_serial_sequence('vms', 'id'))), $2, $3, $4, $5, $6, $7) RETURNING id",
    soft_delete_vm: "UPDATE vms SET deleted_at_ms = $2 WHERE id = $1 AND deleted_at_ms IS NULL",
    resolve_alert: "UPDATE alerts SET resolved_at_ms = $2, status = 'resolved' WHERE id = $1 AND resolved_at_ms IS NULL",
    resolve_vm_alerts: "UPDATE alerts SET resolved_at_ms = $3, status = 'resolved' \
         WHERE vm_id = $1 AND alert_type = $2 AND resolved_at_ms IS NULL",
};

#[cfg(feature = "postgres")]
pub(crate) const POSTGRES_EXPLAIN: &str = concat!(
    "EXPLAIN (FORMAT JSON) ",
    pg_columns!(),
    pg_history!(),
    pg_rest!(),
    pg_page!()
);

// -------------------------------------------------------------------- SQLite
// No LATERAL: correlated max() subqueries joined on the primary key (SQLite's
// min/max optimisation makes each one a single search); window functions
// measured far slower.

#[cfg(feature = "sqlite")]
macro_rules! lite_columns {
    () => {
        "SELECT v.id, v.name, v.status, v.cpu_cores, v.memory_mib, v.created_at_ms, \
         m.ts_ms AS m_ts_ms, m.cpu AS m_cpu, m.memory AS m_memory, m.disk AS m_disk, \
         m.net_rx AS m_net_rx, m.net_tx AS m_net_tx, m.performance_score AS m_performance_score, \
         (SELECT count(*) FROM alerts al WHERE al.vm_id = v.id AND al.resolved_at_ms IS NULL) AS active_alerts, \
         (SELECT max(al.severity) FROM alerts al WHERE al.vm_id = v.id AND al.resolved_at_ms IS NULL) AS max_severity, \
         (SELECT group_concat(t.alert_type, char(31)) FROM (SELECT DISTINCT al.alert_type FROM alerts al \
            WHERE al.vm_id = v.id AND al.resolved_at_ms IS NULL ORDER BY al.alert_type) t) AS alert_types, \
         s.calculated_at_ms AS s_calculated_at_ms, s.overall AS s_overall, \
         s.efficiency AS s_efficiency, s.reliability AS s_reliability \
         FROM vms v "
    };
}
#[cfg(feature = "sqlite")]
macro_rules! lite_history {
    () => {
        "LEFT JOIN vm_metrics m ON m.vm_id = v.id \
         AND m.ts_ms = (SELECT max(mm.ts_ms) FROM vm_metrics mm WHERE mm.vm_id = v.id) AND m.ts_ms >= ?5 "
    };
}
#[cfg(feature = "sqlite")]
macro_rules! lite_latest {
    () => {
        "LEFT JOIN vm_latest_metrics m ON m.vm_id = v.id AND m.ts_ms >= ?5 "
    };
}
#[cfg(feature = "sqlite")]
macro_rules! lite_scores {
    () => {
        "LEFT JOIN performance_scores s ON s.vm_id = v.id \
         AND s.calculated_at_ms = (SELECT max(ps.calculated_at_ms) FROM performance_scores ps WHERE ps.vm_id = v.id) \
         AND s.calculated_at_ms >= ?6 "
    };
}
// The page predicate, as pg_after.
#[cfg(feature = "sqlite")]
macro_rules! lite_after {
    () => {
        "v.deleted_at_ms IS NULL \
         AND (?2 IS NULL OR v.status = ?2) \
         AND (v.name, v.id) > (?3, ?4) \
         ORDER BY v.name, v.id LIMIT "
    };
}
#[cfg(feature = "sqlite")]
macro_rules! lite_page {
    () => {
        concat!("WHERE v.organization_id = ?1 AND ", lite_after!(), "?7")
    };
}

#[cfg(feature = "sqlite")]
pub(crate) const SQLITE: Sql = Sql {
    dashboard: concat!(
        lite_columns!(),
        lite_history!(),
        lite_scores!(),
        lite_page!()
    ),
    dashboard_latest: concat!(
        lite_columns!(),
        lite_latest!(),
        lite_scores!(),
        lite_page!()
    ),
    dashboard_for_vms: concat!(
        lite_columns!(),
        lite_history!(),
        lite_scores!(),
        "WHERE v.organization_id = ?8 AND v.id IN (SELECT value FROM json_each(?1)) AND ",
        lite_after!(),
        "?7"
    ),
    naive_vms: concat!(
        "SELECT id, name, status, cpu_cores, memory_mib, created_at_ms FROM vms v \
         WHERE v.organization_id = ?1 AND ",
        lite_after!(),
        "?5"
    ),
    naive_metrics: "SELECT ts_ms, cpu, memory, disk, net_rx, net_tx, performance_score FROM vm_metrics \
                    WHERE vm_id = ?1 AND ts_ms >= ?2 ORDER BY ts_ms DESC LIMIT 1",
    naive_alerts: "SELECT severity, alert_type FROM alerts WHERE vm_id = ?1 AND resolved_at_ms IS NULL",
    naive_scores: "SELECT calculated_at_ms, overall, efficiency, reliability FROM performance_scores \
                   WHERE vm_id = ?1 AND calculated_at_ms >= ?2 ORDER BY calculated_at_ms DESC LIMIT 1",
    insert_organization: "INSERT INTO organizations (name) VALUES (?1) RETURNING id",
    insert_vm: "INSERT INTO vms (id, organization_id, name, status, cpu_cores, memory_mib, created_at_ms) \
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
    soft_delete_vm: "UPDATE vms SET deleted_at_ms = ?2 WHERE id = ?1 AND deleted_at_ms IS NULL",
    resolve_alert: "UPDATE alerts SET resolved_at_ms = ?2, status = 'resolved' WHERE id = ?1 AND resolved_at_ms IS NULL",
    resolve_vm_alerts: "UPDATE alerts SET resolved_at_ms = ?3, status = 'resolved' \
         WHERE vm_id = ?1 AND alert_type = ?2 AND resolved_at_ms IS NULL",
};

/// Multi-row inserts: (table and columns, columns per row, upsert clause).
pub(crate) const METRICS_INSERT: &str =
    "INSERT INTO vm_metrics (vm_id, ts_ms, cpu, memory, disk, net_rx, net_tx, performance_score) ";
pub(crate) const METRICS_UPSERT: &str = " ON CONFLICT (vm_id, ts_ms) DO UPDATE SET cpu = excluded.cpu, \
     memory = excluded.memory, disk = excluded.disk, net_rx = excluded.net_rx, net_tx = excluded.net_tx, \
     performance_score = excluded.performance_score";
pub(crate) const LATEST_INSERT: &str = "INSERT INTO vm_latest_metrics (vm_id, ts_ms, cpu, memory, disk, net_rx, net_tx, performance_score) ";
pub(crate) const LATEST_UPSERT: &str = " ON CONFLICT (vm_id) DO UPDATE SET ts_ms = excluded.ts_ms, \
     cpu = excluded.cpu, memory = excluded.memory, disk = excluded.disk, net_rx = excluded.net_rx, \
     net_tx = excluded.net_tx, performance_score = excluded.performance_score \
     WHERE excluded.ts_ms >= vm_latest_metrics.ts_ms";
pub(crate) const ALERTS_INSERT: &str =
    "INSERT INTO alerts (vm_id, severity, alert_type, status, created_at_ms, resolved_at_ms) ";
pub(crate) const SCORES_INSERT: &str =
    "INSERT INTO performance_scores (vm_id, calculated_at_ms, overall, efficiency, reliability) ";
pub(crate) const SCORES_UPSERT: &str = " ON CONFLICT (vm_id, calculated_at_ms) DO UPDATE SET overall = excluded.overall, \
     efficiency = excluded.efficiency, reliability = excluded.reliability";
pub(crate) const ORGS_INSERT: &str = "INSERT INTO organizations (id, name) ";
/// Row counts of the five tables.
pub(crate) const COUNTS: &str = "SELECT (SELECT count(*) FROM organizations), (SELECT count(*) FROM vms), \
     (SELECT count(*) FROM vm_metrics), (SELECT count(*) FROM alerts), (SELECT count(*) FROM performance_scores)";
/// PostgreSQL: moves the identity sequence past the largest id in use, never
/// back (a concurrent insert may hold a higher id not yet committed).
pub(crate) const ADVANCE_VM_IDS: &str = "SELECT setval(s, GREATEST((SELECT max(id) FROM vms), pg_sequence_last_value(s), 1)) \
     FROM (SELECT pg_get_serial_sequence('vms', 'id')::regclass AS s) q";
/// As [`ADVANCE_VM_IDS`] for organizations.
pub(crate) const ADVANCE_ORG_IDS: &str = "SELECT setval(s, GREATEST((SELECT max(id) FROM organizations), pg_sequence_last_value(s), 1)) \
     FROM (SELECT pg_get_serial_sequence('organizations', 'id')::regclass AS s) q";
pub(crate) const VMS_INSERT: &str =
    "INSERT INTO vms (id, organization_id, name, status, cpu_cores, memory_mib, created_at_ms) ";

#[cfg(feature = "sqlite")]
pub(crate) const SQLITE_EXPLAIN: &str = concat!(
    "EXPLAIN QUERY PLAN ",
    lite_columns!(),
    lite_history!(),
    lite_scores!(),
    lite_page!()
);

/// One bind parameter of a public statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// Its placeholder number (`$1` is 1).
    pub index: usize,
    /// A short name.
    pub name: &'static str,
    /// The PostgreSQL type to bind it as.
    pub pg_type: &'static str,
    /// What to pass.
    pub meaning: &'static str,
}

/// The PostgreSQL dashboard statement that
/// [`DashboardRepository::dashboard`](crate::DashboardRepository::dashboard)
/// runs (with [`MetricsSource::History`](crate::MetricsSource::History)), for
/// running it through another driver or pool; bind it as
/// [`POSTGRES_DASHBOARD_PARAMS`] describes. Its columns, in order: VM id,
/// name, status, cpu_cores, memory_mib, created_at_ms; the latest sample's
/// ts_ms, cpu, memory, disk, net_rx, net_tx, performance_score (NULL without
/// one); active alert count, max severity, alert types joined by U+001F;
/// the latest score's calculated_at_ms, overall, efficiency, reliability.
#[cfg(feature = "postgres")]
pub const POSTGRES_DASHBOARD_SQL: &str = POSTGRES.dashboard;

/// The bind parameters of [`POSTGRES_DASHBOARD_SQL`], in placeholder order.
pub const POSTGRES_DASHBOARD_PARAMS: [Param; 7] = [
    Param {
        index: 1,
        name: "organization_id",
        pg_type: "int8",
        meaning: "the organization whose VMs are listed",
    },
    Param {
        index: 2,
        name: "status",
        pg_type: "text",
        meaning: "only VMs with this status, or NULL for all",
    },
    Param {
        index: 3,
        name: "after_name",
        pg_type: "text",
        meaning: "keyset: the previous page's last VM name, '' for the first page",
    },
    Param {
        index: 4,
        name: "after_id",
        pg_type: "int8",
        meaning: "keyset: the previous page's last VM id, i64::MIN for the first page",
    },
    Param {
        index: 5,
        name: "metrics_since_ms",
        pg_type: "int8",
        meaning: "oldest sample time shown (ms since the epoch); older samples count as none",
    },
    Param {
        index: 6,
        name: "scores_since_ms",
        pg_type: "int8",
        meaning: "oldest score time shown (ms since the epoch)",
    },
    Param {
        index: 7,
        name: "limit",
        pg_type: "int8",
        meaning: "rows to return (the repository asks for page size + 1 to know if a next page exists)",
    },
];
