//! The page, the JSON API and its errors.
//!
//! | route | what |
//! |---|---|
//! | `GET /` (`/app.js`, `/style.css`) | the page, embedded in the binary |
//! | `GET /api/health` | database up or down, tick, clients |
//! | `GET /api/orgs` | the organizations |
//! | `GET /api/orgs/{org}/vms?cursor=&limit=` | one keyset page of the VM table |
//! | `GET /api/fleet` | the newest fleet panels (the snapshot the page starts from) |
//! | `GET /api/export?format=json\|ndjson` | the full fleet, streamed, gzip/br |
//! | `GET /ws?org=N` | live updates ([`super::ws`]) |
//!
//! Every error is a JSON body `{"error": "..."}` with a 4xx for what the
//! caller sent (an unknown organization, a tampered cursor, a bad limit)
//! and 503 while the database is away — never a 500 for bad input.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use novacron_dashboard_query::{
    Cursor, DashboardQuery, Error as DbError, MAX_PAGE_SIZE, MetricsSource,
};
use serde::Serialize;
use tower_http::compression::{CompressionLayer, CompressionLevel};

use super::State;

/// An API error: a status and a message saying what to do.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// Any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a str,
        }
        (
            self.status,
            axum::Json(Body {
                error: &self.message,
            }),
        )
            .into_response()
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        let status = match &e {
            DbError::InvalidCursor { .. }
            | DbError::InvalidPageSize { .. }
            | DbError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, e.to_string())
    }
}

/// The router of one instance.
pub fn router(state: Arc<State>) -> Router {
    let export = Router::new()
        .route("/api/export", get(super::export::handler))
        // The fastest levels: JSON still shrinks 4–6×, at a fraction of the
        // default levels' CPU per request.
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .br(true)
                .quality(CompressionLevel::Fastest),
        );
    Router::new()
        .route("/", get(index))
        .route("/app.js", get(app_js))
        .route("/style.css", get(style_css))
        .route("/api/health", get(health))
        .route("/api/orgs", get(orgs))
        .route("/api/orgs/{org}/vms", get(vms))
        .route("/api/fleet", get(fleet))
        .route("/ws", get(super::ws::handler))
        .merge(export)
        .fallback(|| async { ApiError::not_found("no such route; see GET / for the page") })
        .with_state(state)
}

async fn index() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../assets/index.html"),
    )
}

async fn app_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/app.js"),
    )
}

async fn style_css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../assets/style.css"),
    )
}

#[derive(Serialize)]
struct Health {
    db: &'static str,
    backend: &'static str,
    tick: u64,
    clients: usize,
    uptime_s: u64,
    upgrades_refused: u64,
    protocol_closed: u64,
    liveness_closed: u64,
    hub: super::hub::HubCounts,
}

async fn health(AxState(state): AxState<Arc<State>>) -> impl IntoResponse {
    axum::Json(Health {
        db: if state.db_is_up() { "up" } else { "down" },
        backend: if state.config.database_url.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        tick: state.tick(),
        clients: state.hub.len(),
        uptime_s: state.started.elapsed().as_secs(),
        upgrades_refused: state.upgrades_refused.load(Ordering::Relaxed),
        protocol_closed: state.protocol_closed.load(Ordering::Relaxed),
        liveness_closed: state.liveness_closed.load(Ordering::Relaxed),
        hub: state.hub.counts(),
    })
}

async fn orgs(AxState(state): AxState<Arc<State>>) -> impl IntoResponse {
    axum::Json(state.orgs.clone())
}

async fn fleet(AxState(state): AxState<Arc<State>>) -> Response {
    let frame = state.latest.read().ok().and_then(|l| l.fleet.clone());
    match frame {
        Some(f) => (
            [(header::CONTENT_TYPE, "application/json")],
            f.as_str().to_owned(),
        )
            .into_response(),
        None => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no tick yet; retry in a second",
        )
        .into_response(),
    }
}

/// Query of the VM table.
#[derive(Debug, serde::Deserialize)]
pub struct PageQuery {
    cursor: Option<String>,
    limit: Option<usize>,
}

#[derive(Serialize)]
struct Row<'a> {
    vm_id: i64,
    name: &'a str,
    status: &'a str,
    cpu_cores: i32,
    memory_mib: i64,
    /// `[cpu, memory, disk, net_rx, net_tx]` rounded to 2 decimals, or null.
    metrics: Option<[f64; 5]>,
    active_alerts: i64,
    alert_types: &'a [String],
    score: Option<f64>,
}

#[derive(Serialize)]
struct Page<'a> {
    org: i64,
    tick: u64,
    rows: Vec<Row<'a>>,
    next_cursor: Option<&'a str>,
}

async fn vms(
    AxState(state): AxState<Arc<State>>,
    org: Result<Path<i64>, axum::extract::rejection::PathRejection>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(org)) = org else {
        return Err(ApiError::bad_request(
            "the organization id must be an integer",
        ));
    };
    let Ok(Query(q)) = query else {
        return Err(ApiError::bad_request("limit must be a positive integer"));
    };
    if state.org(org).is_none() {
        return Err(ApiError::not_found(format!(
            "no organization {org}; GET /api/orgs lists them"
        )));
    }
    let limit = q.limit.unwrap_or(50);
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(ApiError::bad_request(format!(
            "limit must be 1..={MAX_PAGE_SIZE}, got {limit}"
        )));
    }
    let tick = state.tick();
    let query = DashboardQuery::default()
        .page_size(limit)
        .metrics_source(MetricsSource::LatestTable)
        .cursor(q.cursor.map(Cursor::from_string));
    let page = state.repo.dashboard(org, &query).await?;
    let round = super::live::round2;
    let body = Page {
        org,
        tick,
        rows: page
            .rows
            .iter()
            .map(|r| Row {
                vm_id: r.vm_id,
                name: &r.name,
                status: &r.status,
                cpu_cores: r.cpu_cores,
                memory_mib: r.memory_mib,
                metrics: r
                    .metrics
                    .map(|m| [m.cpu, m.memory, m.disk, m.net_rx, m.net_tx].map(round)),
                active_alerts: r.active_alerts,
                alert_types: &r.alert_types,
                score: r.scores.map(|s| round(s.overall)),
            })
            .collect(),
        next_cursor: page.next_cursor.as_ref().map(Cursor::as_str),
    };
    Ok(axum::Json(body).into_response())
}
