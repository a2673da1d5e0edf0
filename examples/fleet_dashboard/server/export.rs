//! The full-fleet export (the report's bottleneck 6: 100 ms+ JSON responses).
//!
//! Rows come from dashboard-query a page at a time (keyset, per
//! organization) and each page is serialized straight from the typed rows
//! (`serde` derive on a borrowing struct — never a `serde_json::Value`
//! tree) on the blocking pool, off the async workers; the body streams
//! chunk by chunk, so the first byte leaves after the first page, and
//! memory stays at a page or two whatever the fleet size. `value_tree` is
//! the way kept as the baseline: every row into a `Value`, then the tree to
//! bytes.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use novacron_dashboard_query::{DashboardQuery, DashboardRow, MetricsSource, Severity};
use serde::Serialize;

use super::State;
use super::api::ApiError;

/// Rows per page (and per chunk) of the export.
pub const PAGE_ROWS: usize = 1_000;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One JSON array.
    #[default]
    Json,
    /// One JSON object per line.
    Ndjson,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Ndjson => "application/x-ndjson",
        }
    }
}

/// Query of `/api/export`.
#[derive(Debug, serde::Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: Format,
}

#[derive(Serialize)]
struct ExportMetrics {
    ts_ms: i64,
    cpu: f64,
    memory: f64,
    disk: f64,
    net_rx: f64,
    net_tx: f64,
}

#[derive(Serialize)]
struct ExportScores {
    overall: f64,
    efficiency: f64,
    reliability: f64,
}

/// One exported row, borrowing from the dashboard row.
#[derive(Serialize)]
struct ExportRow<'a> {
    vm_id: i64,
    organization_id: i64,
    name: &'a str,
    status: &'a str,
    cpu_cores: i32,
    memory_mib: i64,
    metrics: Option<ExportMetrics>,
    active_alerts: i64,
    max_severity: Option<&'static str>,
    alert_types: &'a [String],
    scores: Option<ExportScores>,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
        _ => "unknown",
    }
}

fn export_row(org: i64, r: &DashboardRow) -> ExportRow<'_> {
    ExportRow {
        vm_id: r.vm_id,
        organization_id: org,
        name: &r.name,
        status: &r.status,
        cpu_cores: r.cpu_cores,
        memory_mib: r.memory_mib,
        metrics: r.metrics.map(|m| ExportMetrics {
            ts_ms: m.ts_ms,
            cpu: m.cpu,
            memory: m.memory,
            disk: m.disk,
            net_rx: m.net_rx,
            net_tx: m.net_tx,
        }),
        active_alerts: r.active_alerts,
        max_severity: r.max_severity.map(severity),
        alert_types: &r.alert_types,
        scores: r.scores.map(|s| ExportScores {
            overall: s.overall,
            efficiency: s.efficiency,
            reliability: s.reliability,
        }),
    }
}

/// Appends rows of one organization to `out` in `format`; `first` says
/// whether nothing was written before (no separating comma).
pub fn write_rows(format: Format, org: i64, rows: &[DashboardRow], first: bool, out: &mut Vec<u8>) {
    for (k, r) in rows.iter().enumerate() {
        if format == Format::Json && !(first && k == 0) {
            out.push(b',');
        }
        // Writing our own types into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &export_row(org, r));
        if format == Format::Ndjson {
            out.push(b'\n');
        }
    }
}

/// The whole export in memory, the streamed way (for the bench): the bytes
/// the endpoint sends, and how long until its first chunk was ready.
pub fn typed_document(pages: &[(i64, Vec<DashboardRow>)]) -> (Vec<u8>, std::time::Duration) {
    let started = std::time::Instant::now();
    let mut out = Vec::with_capacity(pages.iter().map(|(_, p)| p.len() * 320).sum::<usize>() + 2);
    out.push(b'[');
    let mut first_chunk = None;
    let mut first = true;
    for (org, rows) in pages {
        write_rows(Format::Json, *org, rows, first, &mut out);
        first &= rows.is_empty();
        first_chunk.get_or_insert_with(|| started.elapsed());
    }
    out.push(b']');
    (out, first_chunk.unwrap_or_else(|| started.elapsed()))
}

/// The baseline: each row into a `serde_json::Value`, the array of them to
/// bytes (what a handler returning `Json(json!(…))` rows does).
pub fn value_tree(pages: &[(i64, Vec<DashboardRow>)]) -> Vec<u8> {
    let mut all = Vec::new();
    for (org, rows) in pages {
        for r in rows {
            all.push(serde_json::json!({
                "vm_id": r.vm_id,
                "organization_id": org,
                "name": r.name,
                "status": r.status,
                "cpu_cores": r.cpu_cores,
                "memory_mib": r.memory_mib,
                "metrics": r.metrics.map(|m| serde_json::json!({
                    "ts_ms": m.ts_ms, "cpu": m.cpu, "memory": m.memory, "disk": m.disk,
                    "net_rx": m.net_rx, "net_tx": m.net_tx,
                })),
                "active_alerts": r.active_alerts,
                "max_severity": r.max_severity.map(severity),
                "alert_types": r.alert_types,
                "scores": r.scores.map(|s| serde_json::json!({
                    "overall": s.overall, "efficiency": s.efficiency, "reliability": s.reliability,
                })),
            }));
        }
    }
    serde_json::to_vec(&serde_json::Value::Array(all)).unwrap_or_default()
}

/// `GET /api/export?format=json|ndjson`: every live VM of the fleet with
/// its latest metrics, alerts and scores, streamed (gzip or br when the
/// client accepts them: the router compresses this route).
pub async fn handler(
    AxState(state): AxState<Arc<State>>,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let format = match query {
        Ok(Query(q)) => q.format,
        Err(_) => {
            return ApiError::bad_request("format must be json or ndjson").into_response();
        }
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    tokio::spawn(async move {
        if format == Format::Json && tx.send(Ok(Bytes::from_static(b"["))).await.is_err() {
            return;
        }
        let mut first = true;
        let orgs: Vec<i64> = state.orgs.iter().map(|o| o.id).collect();
        for org in orgs {
            let mut q = DashboardQuery::default()
                .page_size(PAGE_ROWS)
                .metrics_source(MetricsSource::LatestTable);
            loop {
                let page = match state.repo.dashboard(org, &q).await {
                    Ok(p) => p,
                    Err(e) => {
                        // Headers are gone: end the body with an error, so the
                        // client sees a truncated transfer, not a short document.
                        let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                        return;
                    }
                };
                let next = page.next_cursor.clone();
                let was_first = first;
                first &= page.rows.is_empty();
                let chunk = tokio::task::spawn_blocking(move || {
                    let mut out = Vec::with_capacity(page.rows.len() * 320);
                    write_rows(format, org, &page.rows, was_first, &mut out);
                    out
                })
                .await
                .unwrap_or_default();
                if !chunk.is_empty() && tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                    return;
                }
                match next {
                    Some(c) => q = q.cursor(c),
                    None => break,
                }
            }
        }
        if format == Format::Json {
            let _ = tx.send(Ok(Bytes::from_static(b"]"))).await;
        }
    });
    let body = Body::from_stream(tokio_stream_from(rx));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, format.content_type())],
        body,
    )
        .into_response()
}

/// An mpsc receiver as a stream (without tokio-stream); polling it after
/// the end keeps answering `None`, as the compression layer may do.
fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
