//! The dashboard reads: one statement per page, the 1 + 3N baseline, plans.

use super::*;
use std::time::Duration;

use crate::Error;
use crate::cursor::Position;
use crate::error::db;
use crate::model::{
    DashboardPage, DashboardQuery, DashboardRow, LatestMetrics, LatestScores, MetricsSource,
    Severity, now_ms,
};
use crate::sql::{self, Sql};

/// Binds a dashboard statement's seven parameters (see `sql.rs`).
macro_rules! bind_page {
    ($query:expr, $first:expr, $p:expr) => {
        $query
            .bind($first)
            .bind($p.status.clone())
            .bind($p.after_name.clone())
            .bind($p.after_id)
            .bind($p.metrics_since)
            .bind($p.scores_since)
            .bind($p.limit)
    };
}

#[derive(sqlx::FromRow)]
struct RawRow {
    id: i64,
    name: String,
    status: String,
    cpu_cores: i32,
    memory_mib: i64,
    created_at_ms: i64,
    m_ts_ms: Option<i64>,
    m_cpu: Option<f64>,
    m_memory: Option<f64>,
    m_disk: Option<f64>,
    m_net_rx: Option<f64>,
    m_net_tx: Option<f64>,
    m_performance_score: Option<f64>,
    active_alerts: Option<i64>,
    max_severity: Option<i32>,
    alert_types: Option<String>,
    s_calculated_at_ms: Option<i64>,
    s_overall: Option<f64>,
    s_efficiency: Option<f64>,
    s_reliability: Option<f64>,
}

impl RawRow {
    fn into_row(self) -> DashboardRow {
        let metrics = self.m_ts_ms.map(|ts_ms| LatestMetrics {
            ts_ms,
            cpu: self.m_cpu.unwrap_or(f64::NAN),
            memory: self.m_memory.unwrap_or(f64::NAN),
            disk: self.m_disk.unwrap_or(f64::NAN),
            net_rx: self.m_net_rx.unwrap_or(f64::NAN),
            net_tx: self.m_net_tx.unwrap_or(f64::NAN),
            performance_score: self.m_performance_score,
        });
        let scores = self
            .s_calculated_at_ms
            .map(|calculated_at_ms| LatestScores {
                calculated_at_ms,
                overall: self.s_overall.unwrap_or(f64::NAN),
                efficiency: self.s_efficiency.unwrap_or(f64::NAN),
                reliability: self.s_reliability.unwrap_or(f64::NAN),
            });
        let mut alert_types: Vec<String> = self
            .alert_types
            .map(|t| {
                t.split('\u{1f}')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        alert_types.sort_unstable();
        alert_types.dedup();
        DashboardRow {
            vm_id: self.id,
            name: self.name,
            status: self.status,
            cpu_cores: self.cpu_cores,
            memory_mib: self.memory_mib,
            created_at_ms: self.created_at_ms,
            metrics,
            active_alerts: self.active_alerts.unwrap_or(0),
            max_severity: self.max_severity.and_then(Severity::from_level),
            alert_types,
            scores,
        }
    }
}

type VmTuple = (i64, String, String, i32, i64, i64);
type MetricsTuple = (i64, f64, f64, f64, f64, f64, Option<f64>);
type ScoresTuple = (i64, f64, f64, f64);

/// Bind values shared by the dashboard statements.
struct Params {
    organization_id: i64,
    status: Option<String>,
    after_name: String,
    after_id: i64,
    metrics_since: i64,
    scores_since: i64,
    limit: i64,
    page_size: usize,
}

impl DashboardRepository {
    fn params(&self, organization_id: i64, q: &DashboardQuery) -> Result<Params, Error> {
        if q.page_size == 0 || q.page_size > MAX_PAGE_SIZE {
            return Err(Error::InvalidPageSize { got: q.page_size });
        }
        let (after_name, after_id) = match &q.cursor {
            Some(c) => {
                let p = self.key.decode(c)?;
                if p.organization_id != organization_id || p.status != q.status {
                    return Err(Error::InvalidCursor {
                        reason: "issued for another organization or filter",
                    });
                }
                (p.last_name, p.last_id)
            }
            None => (String::new(), i64::MIN),
        };
        let now = q.now_ms.unwrap_or_else(now_ms);
        let since =
            |w: Duration| now.saturating_sub(i64::try_from(w.as_millis()).unwrap_or(i64::MAX));
        Ok(Params {
            organization_id,
            status: q.status.clone(),
            after_name,
            after_id,
            metrics_since: since(q.metrics_window),
            scores_since: since(q.scores_window),
            limit: q.page_size as i64 + 1,
            page_size: q.page_size,
        })
    }

    fn page(&self, p: &Params, mut rows: Vec<DashboardRow>) -> DashboardPage {
        let next_cursor = if rows.len() > p.page_size {
            rows.truncate(p.page_size);
            rows.last().map(|last| {
                self.key.encode(&Position {
                    organization_id: p.organization_id,
                    status: p.status.clone(),
                    last_name: last.name.clone(),
                    last_id: last.vm_id,
                })
            })
        } else {
            None
        };
        DashboardPage { rows, next_cursor }
    }

    /// One page of an organization's dashboard in **one statement** (one
    /// round trip), ordered by VM name then id. An unknown organization
    /// gives an empty page.
    pub async fn dashboard(
        &self,
        organization_id: i64,
        query: &DashboardQuery,
    ) -> Result<DashboardPage, Error> {
        let p = self.params(organization_id, query)?;
        self.issue(1);
        let raw: Vec<RawRow> = on_pool!(self, pool, sql => {
            let text = match query.metrics_source {
                MetricsSource::History => sql.dashboard,
                MetricsSource::LatestTable => sql.dashboard_latest,
            };
            bind_page!(sqlx::query_as(text), p.organization_id, p)
                .fetch_all(pool)
                .await
                .map_err(db("dashboard"))?
        });
        Ok(self.page(&p, raw.into_iter().map(RawRow::into_row).collect()))
    }

    /// The dashboard rows of the given live VMs of one organization, in one
    /// statement, ordered by name then id. Ids of other organizations' VMs
    /// give no rows (a multi-tenant caller cannot reach another tenant's
    /// VMs through a guessed id). At most [`MAX_PAGE_SIZE`] ids; the
    /// query's status filter and windows apply, its page size and cursor
    /// do not.
    pub async fn dashboard_for_vms(
        &self,
        organization_id: i64,
        ids: &[i64],
        query: &DashboardQuery,
    ) -> Result<Vec<DashboardRow>, Error> {
        if ids.len() > MAX_PAGE_SIZE {
            return Err(Error::InvalidInput {
                reason: format!("{} ids; pass at most {MAX_PAGE_SIZE} per call", ids.len()),
            });
        }
        let p = self.params(
            organization_id,
            &query.clone().cursor(None).page_size(MAX_PAGE_SIZE),
        )?;
        self.issue(1);
        let raw: Vec<RawRow> = match &self.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => bind_page!(
                sqlx::query_as(sql::POSTGRES.dashboard_for_vms),
                ids.to_vec(),
                p
            )
            .bind(p.organization_id)
            .fetch_all(pool)
            .await
            .map_err(db("dashboard"))?,
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => {
                let list = format!(
                    "[{}]",
                    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
                );
                bind_page!(sqlx::query_as(sql::SQLITE.dashboard_for_vms), list, p)
                    .bind(p.organization_id)
                    .fetch_all(pool)
                    .await
                    .map_err(db("dashboard"))?
            }
        };
        Ok(raw.into_iter().map(RawRow::into_row).collect())
    }

    /// The platform's original `GetVMDashboardData`, kept as the baseline:
    /// one statement for the VMs, then per VM one each for its latest
    /// metrics, its active alerts and its latest scores (1 + 3N round
    /// trips). Returns exactly what [`dashboard`](Self::dashboard) returns.
    pub async fn naive_dashboard(
        &self,
        organization_id: i64,
        query: &DashboardQuery,
    ) -> Result<DashboardPage, Error> {
        let p = self.params(organization_id, query)?;
        let rows = on_pool!(self, pool, sql => {
            self.issue(1);
            let vms: Vec<VmTuple> = sqlx::query_as(sql.naive_vms)
                .bind(p.organization_id)
                .bind(p.status.clone())
                .bind(p.after_name.clone())
                .bind(p.after_id)
                .bind(p.limit)
                .fetch_all(pool)
                .await
                .map_err(db("naive dashboard"))?;
            let mut rows = Vec::with_capacity(vms.len());
            for (vm_id, name, status, cpu_cores, memory_mib, created_at_ms) in vms {
                self.issue(3);
                let m: Option<MetricsTuple> = sqlx::query_as(sql.naive_metrics)
                    .bind(vm_id)
                    .bind(p.metrics_since)
                    .fetch_optional(pool)
                    .await
                    .map_err(db("naive dashboard"))?;
                let alerts: Vec<(i32, String)> = sqlx::query_as(sql.naive_alerts)
                    .bind(vm_id)
                    .fetch_all(pool)
                    .await
                    .map_err(db("naive dashboard"))?;
                let s: Option<ScoresTuple> = sqlx::query_as(sql.naive_scores)
                    .bind(vm_id)
                    .bind(p.scores_since)
                    .fetch_optional(pool)
                    .await
                    .map_err(db("naive dashboard"))?;
                let mut alert_types: Vec<String> = alerts.iter().map(|(_, t)| t.clone()).collect();
                alert_types.sort_unstable();
                alert_types.dedup();
                rows.push(DashboardRow {
                    vm_id,
                    name,
                    status,
                    cpu_cores,
                    memory_mib,
                    created_at_ms,
                    metrics: m.map(|(ts_ms, cpu, memory, disk, net_rx, net_tx, performance_score)| LatestMetrics {
                        ts_ms, cpu, memory, disk, net_rx, net_tx, performance_score,
                    }),
                    active_alerts: alerts.len() as i64,
                    max_severity: alerts.iter().filter_map(|(s, _)| Severity::from_level(*s)).max(),
                    alert_types,
                    scores: s.map(|(calculated_at_ms, overall, efficiency, reliability)| LatestScores {
                        calculated_at_ms, overall, efficiency, reliability,
                    }),
                });
            }
            rows
        });
        Ok(self.page(&p, rows))
    }

    /// The database's plan of the dashboard statement for these arguments:
    /// `EXPLAIN (FORMAT JSON)` on PostgreSQL, `EXPLAIN QUERY PLAN` lines on SQLite.
    pub async fn explain_dashboard(
        &self,
        organization_id: i64,
        query: &DashboardQuery,
    ) -> Result<String, Error> {
        let p = self.params(organization_id, query)?;
        self.issue(1);
        match &self.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => {
                let plan: (sqlx::types::JsonValue,) =
                    bind_page!(sqlx::query_as(sql::POSTGRES_EXPLAIN), p.organization_id, p)
                        .fetch_one(pool)
                        .await
                        .map_err(db("explain"))?;
                Ok(plan.0.to_string())
            }
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => {
                let lines: Vec<(i64, i64, i64, String)> =
                    bind_page!(sqlx::query_as(sql::SQLITE_EXPLAIN), p.organization_id, p)
                        .fetch_all(pool)
                        .await
                        .map_err(db("explain"))?;
                Ok(lines
                    .into_iter()
                    .map(|l| l.3)
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
        }
    }
}
