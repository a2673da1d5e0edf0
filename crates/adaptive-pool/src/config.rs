//! Pool settings: every default with its reason, the report's preset, and
//! validation (invalid values come back from `Pool::new` as errors).

use std::time::Duration;

use crate::error::Error;
use crate::policy::ScalingPolicy;

/// How statements reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Direct to PostgreSQL (or a session-pooling PgBouncer): statements are
    /// prepared once per connection and cached (LRU, bounded).
    #[default]
    Session,
    /// Behind a transaction-pooling PgBouncer older than 1.21, where a named
    /// prepared statement does not survive its transaction. Parameterless
    /// queries go out as one unnamed Parse/Bind/Execute; queries with
    /// parameters run prepare and execute inside one transaction of their
    /// own; [`Connection::query_typed`](crate::Connection::query_typed) does it in
    /// one round trip when you name the parameter types. Nothing is cached.
    Transaction,
}

/// Settings of a [`Pool`](crate::Pool). Start from [`Config::default()`] (or
/// [`Config::seed_report()`]) and chain setters; [`Pool::new`](crate::Pool::new)
/// checks the combination and returns [`Error::InvalidConfig`] for a bad one.
///
/// ```
/// use std::time::Duration;
/// use novacron_adaptive_pool::Config;
///
/// let config = Config::default()
///     .min_size(2)
///     .max_size(200)
///     .acquire_timeout(Duration::from_secs(5));
/// assert_eq!(config.get_max_size(), 200);
/// config.validate()?;
/// # Ok::<(), novacron_adaptive_pool::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub(crate) min_size: usize,
    pub(crate) max_size: usize,
    pub(crate) initial_size: Option<usize>,
    pub(crate) min_idle: usize,
    pub(crate) acquire_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_lifetime: Duration,
    pub(crate) lifetime_jitter: f64,
    pub(crate) idle_timeout: Duration,
    pub(crate) ping_after_idle: Duration,
    pub(crate) ping_timeout: Duration,
    pub(crate) keepalive_idle: Duration,
    pub(crate) statement_cache_capacity: usize,
    pub(crate) max_concurrent_connects: usize,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) control_interval: Duration,
    pub(crate) monitor_interval: Duration,
    pub(crate) wait_window: Duration,
    pub(crate) mode: Mode,
    pub(crate) policy: ScalingPolicy,
    pub(crate) respect_server_limit: bool,
    pub(crate) name: String,
}

/// The longest duration any setting accepts: one day. Longer values are
/// almost always a unit mistake (milliseconds passed as seconds).
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// The largest `max_size` accepted: PostgreSQL itself cannot take more
/// connections (`max_connections` is at most 262,143).
pub const MAX_POOL_SIZE: usize = 262_143;

/// The largest statement cache accepted per connection.
pub const MAX_STATEMENT_CACHE: usize = 1 << 20;

impl Default for Config {
    /// The defaults, each with its reason:
    ///
    /// - `min_size` 2: the controller never goes below two warm connections.
    /// - `max_size` 100: a bound on the search, not a size to reach; on
    ///   loopback with 2 cores throughput peaked at 25 and fell past it.
    /// - `initial_size` `2 × cores + 1` (HikariCP's formula with no
    ///   spindles): where throughput usually peaks, so the search starts near.
    /// - `min_idle` 1: one warm connection for the first caller after a
    ///   quiet spell.
    /// - `acquire_timeout` 30 s: the default of bb8, sqlx and HikariCP.
    /// - `connect_timeout` 5 s: long enough for a loaded server's TLS and
    ///   authentication, short enough to name an unreachable host quickly.
    /// - `max_lifetime` 30 min with `lifetime_jitter` 0.1: the peers'
    ///   lifetime; each connection expires up to 10 % early so that
    ///   connections made together are not all redialled together.
    /// - `idle_timeout` 10 min: the peers' default; idle connections above
    ///   `min_idle` are closed after that.
    /// - `ping_after_idle` 30 s, `ping_timeout` 2 s: a connection idle longer
    ///   than that is pinged before it is handed out; pinging every checkout
    ///   costs ~40 % of throughput (measured on deadpool).
    /// - `keepalive_idle` 60 s: TCP keepalive finds half-open sockets the
    ///   ping would only find at the next checkout.
    /// - `statement_cache_capacity` 100: sqlx's per-connection default.
    /// - `max_concurrent_connects` 2, `backoff_base` 25 ms, `backoff_max`
    ///   500 ms: at most two dials at once, and while the server refuses,
    ///   one probe at a time with exponential backoff and full jitter capped
    ///   so that recovery follows the server within about half a second.
    /// - `control_interval` 500 ms: long enough to count thousands of
    ///   operations at loopback rates, short enough to converge in seconds.
    /// - `monitor_interval` 10 s: the report's monitoring period.
    /// - `wait_window` 10 s: the acquire-wait percentiles cover this window.
    /// - `mode` [`Mode::Session`]; `policy` [`ScalingPolicy::default()`];
    ///   `respect_server_limit` on; `name` `"default"`.
    fn default() -> Config {
        Config {
            min_size: 2,
            max_size: 100,
            initial_size: None,
            min_idle: 1,
            acquire_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            max_lifetime: Duration::from_secs(30 * 60),
            lifetime_jitter: 0.1,
            idle_timeout: Duration::from_secs(10 * 60),
            ping_after_idle: Duration::from_secs(30),
            ping_timeout: Duration::from_secs(2),
            keepalive_idle: Duration::from_secs(60),
            statement_cache_capacity: 100,
            max_concurrent_connects: 2,
            backoff_base: Duration::from_millis(25),
            backoff_max: Duration::from_millis(500),
            control_interval: Duration::from_millis(500),
            monitor_interval: Duration::from_secs(10),
            wait_window: Duration::from_secs(10),
            mode: Mode::Session,
            policy: ScalingPolicy::default(),
            respect_server_limit: true,
            name: "default".to_owned(),
        }
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident / $getter:ident : $ty:ty;)*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(mut self, value: $ty) -> Config {
                self.$name = value;
                self
            }

            #[doc = concat!("The `", stringify!($name), "` setting.")]
            pub fn $getter(&self) -> $ty {
                self.$name.clone()
            }
        )*
    };
}

impl Config {
    /// The platform report's values: between 5 and 100 connections, starting
    /// at the old static 25, lifetimes of an hour, a health check after 60 s
    /// idle, a statement cache of 1,000, monitoring every 10 s, and the
    /// report's threshold policy ([`ScalingPolicy::seed_report`]).
    pub fn seed_report() -> Config {
        Config::default()
            .min_size(5)
            .max_size(100)
            .initial_size(Some(25))
            .min_idle(12)
            .max_lifetime(Duration::from_secs(60 * 60))
            .ping_after_idle(Duration::from_secs(60))
            .statement_cache_capacity(1000)
            .monitor_interval(Duration::from_secs(10))
            .policy(ScalingPolicy::seed_report())
    }

    setters! {
        /// The size the controller never goes below (default 2).
        min_size / get_min_size: usize;
        /// The size the controller never goes above (default 100); lowered
        /// further to what the server allows when `respect_server_limit` is on.
        max_size / get_max_size: usize;
        /// The size to start at; `None` (default) means `2 × cores + 1`,
        /// clamped to `[min_size, max_size]`.
        initial_size / get_initial_size: Option<usize>;
        /// Idle connections kept open and warm (default 1), within the size.
        min_idle / get_min_idle: usize;
        /// How long `get()` waits in all, connecting included (default 30 s).
        acquire_timeout / get_acquire_timeout: Duration;
        /// How long one connection attempt may take (default 5 s).
        connect_timeout / get_connect_timeout: Duration;
        /// A connection is closed once it is this old (default 30 min).
        max_lifetime / get_max_lifetime: Duration;
        /// Each connection's lifetime is shortened by a random fraction in
        /// `[0, jitter)` of `max_lifetime` (default 0.1); must be in `[0, 1)`.
        lifetime_jitter / get_lifetime_jitter: f64;
        /// Idle connections above `min_idle` are closed after this (default 10 min).
        idle_timeout / get_idle_timeout: Duration;
        /// A connection idle this long is pinged before it is handed out (default 30 s).
        ping_after_idle / get_ping_after_idle: Duration;
        /// How long that ping may take before the connection is discarded (default 2 s).
        ping_timeout / get_ping_timeout: Duration;
        /// TCP keepalive idle time on every connection (default 60 s).
        keepalive_idle / get_keepalive_idle: Duration;
        /// Prepared statements cached per connection, least recently used
        /// evicted (default 100; 0 turns the cache off).
        statement_cache_capacity / get_statement_cache_capacity: usize;
        /// At most this many connection attempts run at once (default 2).
        max_concurrent_connects / get_max_concurrent_connects: usize;
        /// First backoff after a failed connect (default 25 ms); it doubles
        /// per failure up to `backoff_max`, and each wait is drawn uniformly
        /// below it (full jitter).
        backoff_base / get_backoff_base: Duration;
        /// The backoff cap (default 500 ms).
        backoff_max / get_backoff_max: Duration;
        /// How often the controller samples and may resize (default 500 ms).
        control_interval / get_control_interval: Duration;
        /// How often saturation warnings are logged (default 10 s).
        monitor_interval / get_monitor_interval: Duration;
        /// The window of the acquire-wait percentiles in `Stats` (default 10 s).
        wait_window / get_wait_window: Duration;
        /// Direct or behind a transaction-pooling PgBouncer (default [`Mode::Session`]).
        mode / get_mode: Mode;
        /// How the size is chosen (default [`ScalingPolicy::default()`]).
        policy / get_policy: ScalingPolicy;
        /// Whether `max_size` is lowered to the server's `max_connections`
        /// minus `superuser_reserved_connections` minus the other clients
        /// connected at start (default on).
        respect_server_limit / get_respect_server_limit: bool;
        /// The pool's name in logs and in the `metrics` exporter's `pool`
        /// label (default `"default"`).
        name / get_name: String;
    }

    /// Checks every setting and their combination.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] naming the first bad setting: `max_size` 0
    /// or above [`MAX_POOL_SIZE`], `min_size > max_size`, an initial size or
    /// `min_idle` outside the bounds, a zero duration or one above
    /// [`MAX_DURATION`], a jitter outside `[0, 1)`, `backoff_base >
    /// backoff_max`, a statement cache above [`MAX_STATEMENT_CACHE`], or no
    /// concurrent connects.
    pub fn validate(&self) -> Result<(), Error> {
        if self.max_size == 0 {
            return Err(Error::config(
                "max_size",
                "is 0; a pool needs at least one connection",
            ));
        }
        if self.max_size > MAX_POOL_SIZE {
            return Err(Error::config(
                "max_size",
                format!(
                    "{} is more than PostgreSQL can accept ({MAX_POOL_SIZE}); pass the most connections the server allows",
                    self.max_size
                ),
            ));
        }
        if self.min_size > self.max_size {
            return Err(Error::config(
                "min_size",
                format!(
                    "{} is above max_size {}; lower min_size or raise max_size",
                    self.min_size, self.max_size
                ),
            ));
        }
        if let Some(n) = self.initial_size
            && (n < self.min_size.max(1) || n > self.max_size)
        {
            return Err(Error::config(
                "initial_size",
                format!(
                    "{n} is outside [{}, {}]; pass a size between min_size and max_size, or None",
                    self.min_size.max(1),
                    self.max_size
                ),
            ));
        }
        if self.min_idle > self.max_size {
            return Err(Error::config(
                "min_idle",
                format!("{} is above max_size {}", self.min_idle, self.max_size),
            ));
        }
        for (field, value) in [
            ("acquire_timeout", self.acquire_timeout),
            ("connect_timeout", self.connect_timeout),
            ("max_lifetime", self.max_lifetime),
            ("idle_timeout", self.idle_timeout),
            ("ping_after_idle", self.ping_after_idle),
            ("ping_timeout", self.ping_timeout),
            ("keepalive_idle", self.keepalive_idle),
            ("backoff_base", self.backoff_base),
            ("backoff_max", self.backoff_max),
            ("control_interval", self.control_interval),
            ("monitor_interval", self.monitor_interval),
            ("wait_window", self.wait_window),
        ] {
            if value.is_zero() {
                return Err(Error::config(field, "is zero; pass a positive duration"));
            }
            if value > MAX_DURATION {
                return Err(Error::config(
                    field,
                    format!(
                        "{} s is longer than a day; check the unit (Duration::from_millis vs from_secs)",
                        value.as_secs()
                    ),
                ));
            }
        }
        if !(self.lifetime_jitter >= 0.0 && self.lifetime_jitter < 1.0) {
            return Err(Error::config(
                "lifetime_jitter",
                format!(
                    "{} is outside [0, 1); pass a fraction such as 0.1",
                    self.lifetime_jitter
                ),
            ));
        }
        if self.backoff_base > self.backoff_max {
            return Err(Error::config(
                "backoff_base",
                format!(
                    "{} ms is above backoff_max {} ms",
                    self.backoff_base.as_millis(),
                    self.backoff_max.as_millis()
                ),
            ));
        }
        if self.max_concurrent_connects == 0 {
            return Err(Error::config(
                "max_concurrent_connects",
                "is 0; at least one connection attempt must be allowed",
            ));
        }
        if self.statement_cache_capacity > MAX_STATEMENT_CACHE {
            return Err(Error::config(
                "statement_cache_capacity",
                format!(
                    "{} is above {MAX_STATEMENT_CACHE}; each entry holds a prepared statement on the server",
                    self.statement_cache_capacity
                ),
            ));
        }
        self.policy.validate()
    }

    /// The size the pool starts at.
    pub(crate) fn start_size(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.initial_size
            .unwrap_or(2 * cores + 1)
            .clamp(self.min_size.max(1), self.max_size)
    }
}
