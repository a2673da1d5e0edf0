//! What the repository reads and writes.

use std::time::Duration;

use crate::Cursor;

/// Milliseconds since the Unix epoch (the schema's time unit on both backends).
pub type TimestampMs = i64;

/// The current time in [`TimestampMs`].
pub fn now_ms() -> TimestampMs {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// How bad an alert is; the dashboard reports the worst active one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// Informational.
    Info = 1,
    /// Needs attention.
    Warning = 2,
    /// Needs action now.
    Critical = 3,
}

impl Severity {
    pub(crate) fn from_level(level: i32) -> Option<Severity> {
        match level {
            1 => Some(Severity::Info),
            2 => Some(Severity::Warning),
            3 => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// A VM to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVm {
    /// Explicit id (bulk loads); `None` lets the database assign one.
    pub id: Option<i64>,
    /// Owning organization.
    pub organization_id: i64,
    /// Display name (any text; bound as a parameter).
    pub name: String,
    /// Lifecycle state, for example `running`.
    pub status: String,
    /// Requested CPU cores.
    pub cpu_cores: i32,
    /// Requested memory, MiB.
    pub memory_mib: i64,
    /// Creation time.
    pub created_at_ms: TimestampMs,
}

/// One metrics sample of a VM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricSample {
    /// The VM.
    pub vm_id: i64,
    /// Sample time (unique per VM: a second sample at the same time replaces it).
    pub ts_ms: TimestampMs,
    /// CPU utilisation, percent.
    pub cpu: f64,
    /// Memory utilisation, percent.
    pub memory: f64,
    /// Disk utilisation, percent.
    pub disk: f64,
    /// Network receive rate.
    pub net_rx: f64,
    /// Network transmit rate.
    pub net_tx: f64,
    /// Performance score attached to the sample, if any.
    pub performance_score: Option<f64>,
}

/// An alert to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    /// The VM.
    pub vm_id: i64,
    /// Severity.
    pub severity: Severity,
    /// Alert type, for example `cpu_high` (no control characters).
    pub alert_type: String,
    /// Creation time.
    pub created_at_ms: TimestampMs,
    /// Resolution time; `None` keeps the alert active.
    pub resolved_at_ms: Option<TimestampMs>,
}

/// A performance score of a VM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreSample {
    /// The VM.
    pub vm_id: i64,
    /// Calculation time (unique per VM).
    pub calculated_at_ms: TimestampMs,
    /// Overall score.
    pub overall: f64,
    /// Efficiency score.
    pub efficiency: f64,
    /// Reliability score.
    pub reliability: f64,
}

/// The latest metrics of a VM within the freshness window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatestMetrics {
    /// Sample time.
    pub ts_ms: TimestampMs,
    /// CPU utilisation, percent.
    pub cpu: f64,
    /// Memory utilisation, percent.
    pub memory: f64,
    /// Disk utilisation, percent.
    pub disk: f64,
    /// Network receive rate.
    pub net_rx: f64,
    /// Network transmit rate.
    pub net_tx: f64,
    /// Performance score attached to the sample.
    pub performance_score: Option<f64>,
}

/// The latest scores of a VM within the score window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatestScores {
    /// Calculation time.
    pub calculated_at_ms: TimestampMs,
    /// Overall score.
    pub overall: f64,
    /// Efficiency score.
    pub efficiency: f64,
    /// Reliability score.
    pub reliability: f64,
}

/// One dashboard row: a VM with its latest metrics, active alerts and scores.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardRow {
    /// VM id.
    pub vm_id: i64,
    /// VM name.
    pub name: String,
    /// VM status.
    pub status: String,
    /// CPU cores.
    pub cpu_cores: i32,
    /// Memory, MiB.
    pub memory_mib: i64,
    /// Creation time.
    pub created_at_ms: TimestampMs,
    /// Latest sample no older than the freshness window.
    pub metrics: Option<LatestMetrics>,
    /// Number of active (unresolved) alerts.
    pub active_alerts: i64,
    /// Worst severity among them.
    pub max_severity: Option<Severity>,
    /// Their distinct types, sorted.
    pub alert_types: Vec<String>,
    /// Latest scores no older than the score window.
    pub scores: Option<LatestScores>,
}

/// Where the latest metrics come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MetricsSource {
    /// The history table, one index probe per VM (default).
    #[default]
    History,
    /// The latest-value table kept current by the write API.
    LatestTable,
}

/// Options of a dashboard load; start from `DashboardQuery::default()` and
/// chain the setters.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DashboardQuery {
    /// Only VMs with this status.
    pub status: Option<String>,
    /// Rows per page, `1..=MAX_PAGE_SIZE` (default 1,000).
    pub page_size: usize,
    /// Continue after this page (from [`DashboardPage::next_cursor`]).
    pub cursor: Option<Cursor>,
    /// The time "now" for the windows; `None` uses the clock.
    pub now_ms: Option<TimestampMs>,
    /// Metrics older than this are not shown (default 5 minutes, as in the report).
    pub metrics_window: Duration,
    /// Scores older than this are not shown (default 1 hour).
    pub scores_window: Duration,
    /// Where latest metrics come from.
    pub metrics_source: MetricsSource,
}

impl Default for DashboardQuery {
    fn default() -> Self {
        DashboardQuery {
            status: None,
            page_size: 1000,
            cursor: None,
            now_ms: None,
            metrics_window: Duration::from_secs(300),
            scores_window: Duration::from_secs(3600),
            metrics_source: MetricsSource::History,
        }
    }
}

impl DashboardQuery {
    /// Only VMs with this status (`None`: all).
    #[must_use]
    pub fn status(mut self, status: impl Into<Option<String>>) -> Self {
        self.status = status.into();
        self
    }

    /// Rows per page (checked by the repository: `1..=MAX_PAGE_SIZE`).
    #[must_use]
    pub fn page_size(mut self, rows: usize) -> Self {
        self.page_size = rows;
        self
    }

    /// Continue after the page that returned this cursor (`None`: the first page).
    #[must_use]
    pub fn cursor(mut self, cursor: impl Into<Option<Cursor>>) -> Self {
        self.cursor = cursor.into();
        self
    }

    /// The time "now" for the windows (`None`: the clock).
    #[must_use]
    pub fn now_ms(mut self, now: impl Into<Option<TimestampMs>>) -> Self {
        self.now_ms = now.into();
        self
    }

    /// Metrics older than this are not shown.
    #[must_use]
    pub fn metrics_window(mut self, window: Duration) -> Self {
        self.metrics_window = window;
        self
    }

    /// Scores older than this are not shown.
    #[must_use]
    pub fn scores_window(mut self, window: Duration) -> Self {
        self.scores_window = window;
        self
    }

    /// Where latest metrics come from.
    #[must_use]
    pub fn metrics_source(mut self, source: MetricsSource) -> Self {
        self.metrics_source = source;
        self
    }
}

/// One page of a dashboard, ordered by VM name (then id).
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardPage {
    /// The rows.
    pub rows: Vec<DashboardRow>,
    /// The cursor of the next page; `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

/// Everything a bulk load inserts (explicit ids keep references stable).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulkData {
    /// `(id, name)` of each organization.
    pub organizations: Vec<(i64, String)>,
    /// VMs, each with an explicit `id`.
    pub vms: Vec<NewVm>,
    /// Metric samples.
    pub metrics: Vec<MetricSample>,
    /// Alerts.
    pub alerts: Vec<NewAlert>,
    /// Performance scores.
    pub scores: Vec<ScoreSample>,
}

/// Row counts after a bulk load, verified against the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadReport {
    /// Organizations.
    pub organizations: u64,
    /// VMs.
    pub vms: u64,
    /// Metric samples.
    pub metrics: u64,
    /// Alerts.
    pub alerts: u64,
    /// Scores.
    pub scores: u64,
}
