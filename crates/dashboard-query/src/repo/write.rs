//! The write API and the bulk loader.

use super::validate::*;
use super::*;

use crate::Error;
use crate::error::db;
use crate::model::{BulkData, LoadReport, MetricSample, NewAlert, NewVm, ScoreSample, TimestampMs};
use crate::sql::{self, Sql};

/// Multi-row INSERTs of `$rows` in chunks of [`CHUNK`], each row's values
/// bound by `$bind` on the separated builder `$b`.
macro_rules! insert_chunks {
    ($self:expr, $tx:ident, $op:literal, $rows:expr, $head:expr, $tail:expr, |$b:ident, $row:ident| $bind:expr) => {
        for chunk in $rows.chunks(CHUNK) {
            let mut qb = sqlx::QueryBuilder::new($head);
            qb.push_values(chunk, |mut $b, $row| {
                $bind;
            });
            qb.push($tail);
            $self.issue(1);
            qb.build().execute(&mut *$tx).await.map_err(db($op))?;
        }
    };
}

/// Inserts metric samples (repeated keys already removed) into the history
/// and the latest-value table inside the transaction `$tx`.
macro_rules! push_metrics {
    ($self:expr, $tx:ident, $op:literal, $samples:expr) => {{
        let samples: &[MetricSample] = $samples;
        let latest = latest_per_vm(samples);
        for (rows, head, tail) in [
            (samples, sql::METRICS_INSERT, sql::METRICS_UPSERT),
            (&latest[..], sql::LATEST_INSERT, sql::LATEST_UPSERT),
        ] {
            insert_chunks!($self, $tx, $op, rows, head, tail, |b, m| b
                .push_bind(m.vm_id)
                .push_bind(m.ts_ms)
                .push_bind(m.cpu)
                .push_bind(m.memory)
                .push_bind(m.disk)
                .push_bind(m.net_rx)
                .push_bind(m.net_tx)
                .push_bind(m.performance_score));
        }
    }};
}

/// Inserts alerts inside the transaction `$tx`.
macro_rules! push_alerts {
    ($self:expr, $tx:ident, $op:literal, $alerts:expr) => {{
        let alerts: &[NewAlert] = $alerts;
        insert_chunks!($self, $tx, $op, alerts, sql::ALERTS_INSERT, "", |b, a| b
            .push_bind(a.vm_id)
            .push_bind(a.severity as i32)
            .push_bind(a.alert_type.clone())
            .push_bind(if a.resolved_at_ms.is_some() {
                "resolved"
            } else {
                "active"
            })
            .push_bind(a.created_at_ms)
            .push_bind(a.resolved_at_ms));
    }};
}

/// Inserts scores (repeated keys already removed) inside the transaction `$tx`.
macro_rules! push_scores {
    ($self:expr, $tx:ident, $op:literal, $scores:expr) => {{
        let scores: &[ScoreSample] = $scores;
        insert_chunks!(
            $self,
            $tx,
            $op,
            scores,
            sql::SCORES_INSERT,
            sql::SCORES_UPSERT,
            |b, s| b
                .push_bind(s.vm_id)
                .push_bind(s.calculated_at_ms)
                .push_bind(s.overall)
                .push_bind(s.efficiency)
                .push_bind(s.reliability)
        );
    }};
}

/// The row counts of the five tables, read inside the transaction `$tx`.
macro_rules! count_rows {
    ($self:expr, $tx:ident) => {{
        $self.issue(1);
        let c: (i64, i64, i64, i64, i64) = sqlx::query_as(sql::COUNTS)
            .fetch_one(&mut *$tx)
            .await
            .map_err(db("count rows"))?;
        load_report(c)
    }};
}

impl DashboardRepository {
    /// Creates an organization and returns its id.
    pub async fn create_organization(&self, name: &str) -> Result<i64, Error> {
        check_text("organization name", name, 1024)?;
        self.issue(1);
        on_pool!(self, pool, sql => sqlx::query_scalar(sql.insert_organization)
            .bind(name.to_string())
            .fetch_one(pool)
            .await
            .map_err(db("create organization")))
    }

    /// Creates a VM and returns its id: `vm.id` when given (later VMs
    /// without one then get ids above it, on both backends), else the next
    /// free id.
    pub async fn create_vm(&self, vm: &NewVm) -> Result<i64, Error> {
        check_vm(vm)?;
        let advance = vm.id.is_some() && self.backend() == Backend::Postgres;
        let id: i64;
        in_transaction!(self, "create vm", tx => {
            self.issue(1);
            id = on_pool!(self, _pool, sql => sqlx::query_scalar(sql.insert_vm)
                .bind(vm.id)
                .bind(vm.organization_id)
                .bind(vm.name.clone())
                .bind(vm.status.clone())
                .bind(vm.cpu_cores)
                .bind(vm.memory_mib)
                .bind(vm.created_at_ms)
                .fetch_one(&mut *tx)
                .await
                .map_err(db("create vm"))?);
            if advance {
                // An explicit id does not move PostgreSQL's identity sequence.
                self.issue(1);
                sqlx::query(sql::ADVANCE_VM_IDS).execute(&mut *tx).await.map_err(db("create vm"))?;
            }
        });
        Ok(id)
    }

    /// Soft-deletes a VM (it leaves the dashboard); false if it was not live.
    pub async fn delete_vm(&self, vm_id: i64, at_ms: TimestampMs) -> Result<bool, Error> {
        self.issue(1);
        let done = on_pool!(self, pool, sql => sqlx::query(sql.soft_delete_vm)
            .bind(vm_id)
            .bind(at_ms)
            .execute(pool)
            .await
            .map_err(db("delete vm"))?
            .rows_affected());
        Ok(done == 1)
    }

    /// Resolves an alert; false if it was not active.
    pub async fn resolve_alert(&self, alert_id: i64, at_ms: TimestampMs) -> Result<bool, Error> {
        self.issue(1);
        let done = on_pool!(self, pool, sql => sqlx::query(sql.resolve_alert)
            .bind(alert_id)
            .bind(at_ms)
            .execute(pool)
            .await
            .map_err(db("resolve alert"))?
            .rows_affected());
        Ok(done == 1)
    }

    /// Resolves every active alert of `alert_type` on a VM (what a monitor
    /// does when the condition clears) and returns how many it resolved.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty, over-long or control-character
    /// alert type; [`Error::Database`] when the statement fails.
    pub async fn resolve_vm_alerts(
        &self,
        vm_id: i64,
        alert_type: &str,
        at_ms: TimestampMs,
    ) -> Result<u64, Error> {
        check_alert(&NewAlert {
            vm_id,
            severity: crate::Severity::Info,
            alert_type: alert_type.to_string(),
            created_at_ms: at_ms,
            resolved_at_ms: None,
        })?;
        self.issue(1);
        Ok(
            on_pool!(self, pool, sql => sqlx::query(sql.resolve_vm_alerts)
            .bind(vm_id)
            .bind(alert_type.to_string())
            .bind(at_ms)
            .execute(pool)
            .await
            .map_err(db("resolve alerts"))?
            .rows_affected()),
        )
    }

    /// Records metric samples in one transaction, batched (2,000 rows a
    /// statement), and keeps the latest-value table current. A sample at an
    /// existing (vm, time) replaces it, and so does a later sample of the
    /// same (vm, time) within the batch.
    pub async fn record_metrics(&self, samples: &[MetricSample]) -> Result<(), Error> {
        samples.iter().try_for_each(check_metric)?;
        if samples.is_empty() {
            return Ok(());
        }
        let samples = last_per_key(samples, |m| (m.vm_id, m.ts_ms));
        in_transaction!(self, "record metrics", tx => {
            push_metrics!(self, tx, "record metrics", &samples);
        });
        Ok(())
    }

    /// Records alerts in one transaction, batched.
    pub async fn record_alerts(&self, alerts: &[NewAlert]) -> Result<(), Error> {
        alerts.iter().try_for_each(check_alert)?;
        if alerts.is_empty() {
            return Ok(());
        }
        in_transaction!(self, "record alerts", tx => {
            push_alerts!(self, tx, "record alerts", alerts);
        });
        Ok(())
    }

    /// Records performance scores in one transaction, batched. A score at an
    /// existing (vm, time) replaces it, as does a later one within the batch.
    pub async fn record_scores(&self, scores: &[ScoreSample]) -> Result<(), Error> {
        scores.iter().try_for_each(check_score)?;
        if scores.is_empty() {
            return Ok(());
        }
        let scores = last_per_key(scores, |s| (s.vm_id, s.calculated_at_ms));
        in_transaction!(self, "record scores", tx => {
            push_scores!(self, tx, "record scores", &scores);
        });
        Ok(())
    }

    /// Loads a whole fleet (organizations, VMs with explicit ids, metrics,
    /// alerts, scores) with multi-row inserts in **one transaction**: it
    /// checks that every table grew by exactly the rows sent (repeated keys
    /// within the batch counted once), advances the id sequences past the
    /// explicit ids and updates the planner's statistics before it commits.
    /// A load that fails anywhere, or whose rows would replace rows already
    /// stored ([`Error::LoadMismatch`]), leaves nothing behind.
    pub async fn bulk_load(&self, data: &BulkData) -> Result<LoadReport, Error> {
        for (_, name) in &data.organizations {
            check_text("organization name", name, 1024)?;
        }
        for vm in &data.vms {
            check_vm(vm)?;
            if vm.id.is_none() {
                return Err(Error::InvalidInput {
                    reason: "bulk loads need an explicit id on every VM".into(),
                });
            }
        }
        data.metrics.iter().try_for_each(check_metric)?;
        data.alerts.iter().try_for_each(check_alert)?;
        data.scores.iter().try_for_each(check_score)?;
        let metrics = last_per_key(&data.metrics, |m| (m.vm_id, m.ts_ms));
        let scores = last_per_key(&data.scores, |s| (s.vm_id, s.calculated_at_ms));
        let sent = LoadReport {
            organizations: data.organizations.len() as u64,
            vms: data.vms.len() as u64,
            metrics: metrics.len() as u64,
            alerts: data.alerts.len() as u64,
            scores: scores.len() as u64,
        };
        let postgres = self.backend() == Backend::Postgres;
        in_transaction!(self, "bulk load", tx => {
            let before = count_rows!(self, tx);
            insert_chunks!(self, tx, "bulk load", data.organizations, sql::ORGS_INSERT, "", |b, o| b
                .push_bind(o.0)
                .push_bind(o.1.clone()));
            insert_chunks!(self, tx, "bulk load", data.vms, sql::VMS_INSERT, "", |b, vm| b
                .push_bind(vm.id)
                .push_bind(vm.organization_id)
                .push_bind(vm.name.clone())
                .push_bind(vm.status.clone())
                .push_bind(vm.cpu_cores)
                .push_bind(vm.memory_mib)
                .push_bind(vm.created_at_ms));
            push_metrics!(self, tx, "bulk load", &metrics);
            push_alerts!(self, tx, "bulk load", &data.alerts);
            push_scores!(self, tx, "bulk load", &scores);
            let after = count_rows!(self, tx);
            for (table, before, after, sent) in [
                ("organizations", before.organizations, after.organizations, sent.organizations),
                ("vms", before.vms, after.vms, sent.vms),
                ("vm_metrics", before.metrics, after.metrics, sent.metrics),
                ("alerts", before.alerts, after.alerts, sent.alerts),
                ("performance_scores", before.scores, after.scores, sent.scores),
            ] {
                if after != before + sent {
                    // Returning drops the transaction: the whole load rolls back.
                    return Err(Error::LoadMismatch {
                        table,
                        expected: before + sent,
                        found: after,
                    });
                }
            }
            let statements: &[&'static str] = if postgres {
                &[sql::ADVANCE_ORG_IDS, sql::ADVANCE_VM_IDS, "ANALYZE"]
            } else {
                &["ANALYZE"]
            };
            for &s in statements {
                self.issue(1);
                sqlx::query(s).execute(&mut *tx).await.map_err(db("bulk load"))?;
            }
        });
        Ok(sent)
    }

    /// Row counts of the five tables (one statement).
    pub async fn counts(&self) -> Result<LoadReport, Error> {
        self.issue(1);
        let c: (i64, i64, i64, i64, i64) = on_pool!(self, pool, _sql => sqlx::query_as(sql::COUNTS).fetch_one(pool).await.map_err(db("count rows"))?);
        Ok(load_report(c))
    }
}

fn load_report(c: (i64, i64, i64, i64, i64)) -> LoadReport {
    let u = |v: i64| u64::try_from(v).unwrap_or(0);
    LoadReport {
        organizations: u(c.0),
        vms: u(c.1),
        metrics: u(c.2),
        alerts: u(c.3),
        scores: u(c.4),
    }
}

/// The newest sample of each VM in a batch (one upsert row per VM: a
/// multi-row upsert may not touch one row twice).
fn latest_per_vm(samples: &[MetricSample]) -> Vec<MetricSample> {
    let mut by_vm: std::collections::HashMap<i64, MetricSample> = std::collections::HashMap::new();
    for s in samples {
        by_vm
            .entry(s.vm_id)
            .and_modify(|cur| {
                if s.ts_ms >= cur.ts_ms {
                    *cur = *s
                }
            })
            .or_insert(*s);
    }
    let mut out: Vec<MetricSample> = by_vm.into_values().collect();
    out.sort_by_key(|s| s.vm_id);
    out
}

/// The rows of a batch with every repeated key but the last removed: within
/// one batch, as across batches, a later row replaces an earlier one with
/// the same key. (PostgreSQL refuses a multi-row upsert that touches one row
/// twice.) Borrows the batch when no key repeats.
fn last_per_key<T: Copy, K: std::hash::Hash + Eq>(
    rows: &[T],
    key: impl Fn(&T) -> K,
) -> std::borrow::Cow<'_, [T]> {
    let mut last = std::collections::HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        last.insert(key(r), i);
    }
    if last.len() == rows.len() {
        return std::borrow::Cow::Borrowed(rows);
    }
    std::borrow::Cow::Owned(
        rows.iter()
            .enumerate()
            .filter(|(i, r)| last.get(&key(r)) == Some(i))
            .map(|(_, r)| *r)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_per_key_keeps_the_last_row_of_each_key_in_batch_order() {
        let rows = [(1, 'a'), (2, 'b'), (1, 'c'), (3, 'd'), (2, 'e')];
        assert_eq!(
            &*last_per_key(&rows, |r| r.0),
            &[(1, 'c'), (3, 'd'), (2, 'e')]
        );
        assert!(matches!(
            last_per_key(&rows[..2], |r| r.0),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
