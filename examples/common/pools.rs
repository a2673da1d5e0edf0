//! The pools compared by `examples/pool_load.rs` and `benches/pool.rs`: this
//! workspace's adaptive pool and its peers (raw deadpool-postgres, bb8, sqlx),
//! behind one "get, run, put back" call. Included by path.

#![allow(dead_code, unreachable_pub)]

use std::str::FromStr;
use std::time::{Duration, Instant};

use novacron_adaptive_pool as adaptive;
use novacron_dashboard_query::POSTGRES_DASHBOARD_SQL;

/// Which pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Adaptive,
    Deadpool,
    Bb8,
    Sqlx,
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        match s {
            "adaptive" => Ok(Kind::Adaptive),
            "deadpool" => Ok(Kind::Deadpool),
            "bb8" => Ok(Kind::Bb8),
            "sqlx" => Ok(Kind::Sqlx),
            _ => Err(format!(
                "unknown pool `{s}`; pass adaptive, deadpool, bb8 or sqlx"
            )),
        }
    }
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Adaptive => "adaptive",
            Kind::Deadpool => "deadpool",
            Kind::Bb8 => "bb8",
            Kind::Sqlx => "sqlx",
        }
    }
}

/// What each operation runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// `SELECT 1` over the simple-query protocol (one round trip).
    Select1,
    /// `SELECT pg_sleep(ms / 1000)`: the connection is held that long.
    SleepMs(u32),
    /// The dashboard statement of novacron-dashboard-query for a random
    /// organization among `orgs` (prepared, cached per connection).
    Dashboard { orgs: Vec<i64>, now_ms: i64 },
}

impl Query {
    pub fn parse(s: &str) -> Result<Query, String> {
        match s {
            "select1" => Ok(Query::Select1),
            "dashboard" => Ok(Query::Dashboard {
                orgs: Vec::new(),
                now_ms: 0,
            }),
            other => other
                .strip_prefix("sleep-ms:")
                .and_then(|k| k.parse().ok())
                .map(Query::SleepMs)
                .ok_or_else(|| {
                    format!("unknown query `{other}`; pass select1, sleep-ms:K or dashboard")
                }),
        }
    }

    fn simple_sql(&self) -> Option<String> {
        match self {
            Query::Select1 => Some("SELECT 1".to_owned()),
            Query::SleepMs(ms) => Some(format!("SELECT pg_sleep({})", f64::from(*ms) / 1000.0)),
            Query::Dashboard { .. } => None,
        }
    }
}

/// A pool of one kind.
#[derive(Clone)]
pub enum AnyPool {
    Adaptive(adaptive::Pool),
    Deadpool(deadpool_postgres::Pool),
    Bb8(bb8::Pool<bb8_postgres::PostgresConnectionManager<tokio_postgres::NoTls>>),
    Sqlx(sqlx::PgPool),
}

/// Gauges common to every pool (what each exposes).
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    pub size: usize,
    pub in_use: usize,
    pub idle: usize,
}

impl AnyPool {
    /// Builds a pool of `kind`: static `size` for the peers (each with its
    /// checkout check off, as measured fastest), `min..=max` for the adaptive
    /// one (static when `min == max`). All wait up to `acquire_timeout`.
    pub async fn build(
        kind: Kind,
        url: &str,
        size: usize,
        adaptive_config: adaptive::Config,
        acquire_timeout: Duration,
    ) -> Result<AnyPool, String> {
        let pg = tokio_postgres::Config::from_str(url).map_err(|e| e.to_string())?;
        Ok(match kind {
            Kind::Adaptive => AnyPool::Adaptive(
                adaptive::Pool::new(pg, adaptive_config.acquire_timeout(acquire_timeout))
                    .await
                    .map_err(|e| e.to_string())?,
            ),
            Kind::Deadpool => {
                let manager = deadpool_postgres::Manager::from_config(
                    pg,
                    tokio_postgres::NoTls,
                    deadpool_postgres::ManagerConfig {
                        recycling_method: deadpool_postgres::RecyclingMethod::Fast,
                    },
                );
                AnyPool::Deadpool(
                    deadpool_postgres::Pool::builder(manager)
                        .max_size(size)
                        .runtime(deadpool_postgres::Runtime::Tokio1)
                        .wait_timeout(Some(acquire_timeout))
                        .build()
                        .map_err(|e| e.to_string())?,
                )
            }
            Kind::Bb8 => {
                let manager =
                    bb8_postgres::PostgresConnectionManager::new(pg, tokio_postgres::NoTls);
                AnyPool::Bb8(
                    bb8::Pool::builder()
                        .max_size(u32::try_from(size).map_err(|e| e.to_string())?)
                        .test_on_check_out(false)
                        .connection_timeout(acquire_timeout)
                        .build(manager)
                        .await
                        .map_err(|e| e.to_string())?,
                )
            }
            Kind::Sqlx => AnyPool::Sqlx(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(u32::try_from(size).map_err(|e| e.to_string())?)
                    .test_before_acquire(false)
                    .acquire_timeout(acquire_timeout)
                    .connect(url)
                    .await
                    .map_err(|e| e.to_string())?,
            ),
        })
    }

    /// One operation: get a connection (timed), run `query`, put it back.
    /// Returns the acquire wait, or the error's kind and message.
    pub async fn run(&self, query: &Query, pick: u64) -> Result<Duration, (&'static str, String)> {
        let started = Instant::now();
        let binds = dashboard_binds(query, pick);
        let sql = query.simple_sql();
        let failed = |e: &dyn std::fmt::Display| ("query", e.to_string());
        match self {
            AnyPool::Adaptive(pool) => {
                let conn = pool
                    .get()
                    .await
                    .map_err(|e| (acquire_kind(&e), e.to_string()))?;
                let wait = started.elapsed();
                match &sql {
                    Some(sql) => conn.simple_query(sql).await.map(drop),
                    None => conn
                        .query(POSTGRES_DASHBOARD_SQL, &binds.params())
                        .await
                        .map(drop),
                }
                .map_err(|e| failed(&e))?;
                Ok(wait)
            }
            AnyPool::Deadpool(pool) => {
                let conn = pool.get().await.map_err(|e| ("acquire", e.to_string()))?;
                let wait = started.elapsed();
                let statement = match sql {
                    Some(_) => None,
                    None => Some(
                        conn.prepare_cached(POSTGRES_DASHBOARD_SQL)
                            .await
                            .map_err(|e| failed(&e))?,
                    ),
                };
                on_client(&conn, sql.as_deref(), &binds, statement.as_ref())
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(wait)
            }
            AnyPool::Bb8(pool) => {
                let conn = pool.get().await.map_err(|e| ("acquire", e.to_string()))?;
                let wait = started.elapsed();
                // bb8-postgres has no statement cache: prepared per call.
                on_client(&conn, sql.as_deref(), &binds, None)
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(wait)
            }
            AnyPool::Sqlx(pool) => {
                let mut conn = pool
                    .acquire()
                    .await
                    .map_err(|e| ("acquire", e.to_string()))?;
                let wait = started.elapsed();
                match sql {
                    Some(sql) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut *conn)
                        .await
                        .map(drop),
                    None => sqlx::query(POSTGRES_DASHBOARD_SQL)
                        .bind(binds.org)
                        .bind(binds.status.clone())
                        .bind(binds.after_name.clone())
                        .bind(binds.after_id)
                        .bind(binds.since_ms)
                        .bind(binds.since_ms)
                        .bind(binds.limit)
                        .execute(&mut *conn)
                        .await
                        .map(drop),
                }
                .map_err(|e| failed(&e))?;
                Ok(wait)
            }
        }
    }

    pub fn gauges(&self) -> Gauges {
        match self {
            AnyPool::Adaptive(pool) => {
                let s = pool.stats();
                Gauges {
                    size: s.max_open,
                    in_use: s.in_use,
                    idle: s.idle,
                }
            }
            AnyPool::Deadpool(pool) => {
                let s = pool.status();
                Gauges {
                    size: s.max_size,
                    in_use: s.size.saturating_sub(s.available),
                    idle: s.available,
                }
            }
            AnyPool::Bb8(pool) => {
                let s = pool.state();
                Gauges {
                    size: s.connections as usize,
                    in_use: s.connections.saturating_sub(s.idle_connections) as usize,
                    idle: s.idle_connections as usize,
                }
            }
            AnyPool::Sqlx(pool) => {
                let size = pool.size() as usize;
                let idle = pool.num_idle();
                Gauges {
                    size,
                    in_use: size.saturating_sub(idle),
                    idle,
                }
            }
        }
    }
}

fn acquire_kind(e: &adaptive::Error) -> &'static str {
    match e {
        adaptive::Error::Timeout { .. } => "timeout",
        adaptive::Error::Connect { .. } => "connect",
        _ => "acquire",
    }
}

/// Runs `sql` over the simple-query protocol, or else the dashboard
/// statement (`statement` when the pool cached it, prepared per call otherwise).
async fn on_client(
    client: &tokio_postgres::Client,
    sql: Option<&str>,
    binds: &DashboardBinds,
    statement: Option<&tokio_postgres::Statement>,
) -> Result<(), tokio_postgres::Error> {
    match (sql, statement) {
        (Some(sql), _) => client.simple_query(sql).await.map(drop),
        (None, Some(statement)) => client.query(statement, &binds.params()).await.map(drop),
        (None, None) => client
            .query(POSTGRES_DASHBOARD_SQL, &binds.params())
            .await
            .map(drop),
    }
}

/// The bindings of novacron-dashboard-query's `POSTGRES_DASHBOARD_SQL` for
/// the first page of one organization (all statuses), samples and scores
/// since `since_ms`, at most `limit` rows — in the order
/// `POSTGRES_DASHBOARD_PARAMS` describes.
#[derive(Debug, Clone)]
pub struct DashboardBinds {
    pub org: i64,
    pub status: Option<String>,
    pub after_name: String,
    pub after_id: i64,
    pub since_ms: i64,
    pub limit: i64,
}

impl DashboardBinds {
    pub fn first_page(org: i64, since_ms: i64, limit: i64) -> DashboardBinds {
        DashboardBinds {
            org,
            status: None,
            after_name: String::new(),
            after_id: i64::MIN,
            since_ms,
            limit,
        }
    }

    /// `$1` … `$7` (the same time bounds metrics and scores).
    pub fn params(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); 7] {
        [
            &self.org,
            &self.status,
            &self.after_name,
            &self.after_id,
            &self.since_ms,
            &self.since_ms,
            &self.limit,
        ]
    }
}

/// The `pick`-th organization's first page, the last hour, 50 rows.
fn dashboard_binds(query: &Query, pick: u64) -> DashboardBinds {
    let (org, now) = match query {
        Query::Dashboard { orgs, now_ms } if !orgs.is_empty() => {
            (orgs[(pick % orgs.len() as u64) as usize], *now_ms)
        }
        _ => (1, 0),
    };
    DashboardBinds::first_page(org, now - 3_600_000, 51)
}
