//! Test-only helper that gives every test a real, private PostgreSQL database.
//!
//! The database crates of this workspace are tested against a real server,
//! never a mock. [`TestDb::new`] hands each test its own database, created
//! from `template0`, so tests run in parallel without seeing each other's rows:
//!
//! - if `DATABASE_URL` is set, databases are created on that server (the role
//!   needs `CREATEDB`) and dropped again when the [`TestDb`] is dropped;
//! - otherwise a throwaway server is started from the local PostgreSQL
//!   binaries (`initdb` and `postgres` on `PATH`, in `pg_config --bindir`, or
//!   in `/usr/lib/postgresql/<version>/bin`), in a temporary directory, on a
//!   free loopback port with a private socket directory and `fsync=off`. It is
//!   shared by every test of the process and stopped, with its directory
//!   removed, when the last [`TestDb`] is dropped — also when a test panics,
//!   and (through a small watchdog process) when the test process is killed.
//!
//! PostgreSQL refuses to run as root, so when the tests run as root the server
//! is started as the `postgres` user (set with `CommandExt::uid`/`gid`, no
//! `sudo` needed). As an ordinary user it runs as that user.
//!
//! ```no_run
//! let db = novacron_testkit::TestDb::new()?;
//! // Hand `db.url()` to sqlx, tokio-postgres, deadpool-postgres, psql...
//! assert!(db.url().starts_with("postgres://"));
//! let answer = db.psql("SELECT 6 * 7")?;
//! assert_eq!(answer, "42");
//! # Ok::<(), novacron_testkit::Error>(())
//! ```
//!
//! # Errors
//!
//! When no PostgreSQL binaries are found, [`TestDb::new`] returns
//! [`Error::BinariesNotFound`], whose message says exactly what to install: a
//! test using it fails loudly, it never passes silently.
//!
//! This crate is `publish = false` and only ever a dev-dependency.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// What went wrong while providing a test database.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No `initdb`/`postgres` binaries were found and `DATABASE_URL` is unset.
    BinariesNotFound,
    /// Tests run as root but the system has no `postgres` user to run the server as.
    NoPostgresUser,
    /// A command (initdb, postgres, psql) could not run or failed.
    Command {
        /// The command that failed.
        what: String,
        /// Its output or the OS error.
        detail: String,
    },
    /// The server did not accept connections in time.
    StartTimeout {
        /// The server log, for diagnosis.
        log: String,
    },
    /// Creating the temporary directory or a file in it failed.
    Io(String),
    /// `DATABASE_URL` is not a `postgres://` or `postgresql://` URL.
    BadUrl(String),
    /// No `pgbouncer` binary was found.
    PgbouncerNotFound,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BinariesNotFound => write!(
                f,
                "no PostgreSQL server binaries (initdb, postgres) found on PATH, in `pg_config --bindir` \
                 or in /usr/lib/postgresql/*/bin; install them (Debian: `apt-get install postgresql`) \
                 or set DATABASE_URL to a server where the role may CREATE DATABASE"
            ),
            Error::NoPostgresUser => write!(
                f,
                "tests run as root but there is no `postgres` user to run the server as; \
                 install Debian's `postgresql` package (it creates the user) or run the tests as an ordinary user"
            ),
            Error::Command { what, detail } => write!(f, "`{what}` failed: {detail}"),
            Error::StartTimeout { log } => write!(
                f,
                "the throwaway PostgreSQL server did not accept connections within 60 s; its log says:\n{log}"
            ),
            Error::Io(e) => write!(f, "cannot prepare the server's temporary directory: {e}"),
            Error::PgbouncerNotFound => write!(
                f,
                "no pgbouncer binary in /usr/sbin, /usr/bin or /usr/local/bin; \
                 install it (Debian: `apt-get install pgbouncer`)"
            ),
            Error::BadUrl(url) => write!(
                f,
                "DATABASE_URL `{url}` is not a postgres:// URL; set it like postgres://user:pass@host:5432/db"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// A private database for one test; dropped with the value.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
    admin_url: String,
    psql: PathBuf,
    /// Keeps the shared throwaway server alive while this database is in use.
    server: Option<Arc<Server>>,
}

impl TestDb {
    /// Creates a fresh, empty database (from `template0`) for the calling test.
    ///
    /// # Errors
    ///
    /// See [`Error`]: missing binaries, a server that would not start, or a
    /// failing `CREATE DATABASE`.
    pub fn new() -> Result<TestDb, Error> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "novacron_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let (admin_url, psql, server) = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                let psql = find_bindir()
                    .map(|dir| dir.join("psql"))
                    .filter(|p| p.exists())
                    .unwrap_or_else(|| PathBuf::from("psql"));
                (url, psql, None)
            }
            _ => {
                let server = Server::shared()?;
                (
                    server.url("postgres"),
                    server.bindir.join("psql"),
                    Some(server),
                )
            }
        };
        let url = replace_dbname(&admin_url, &name)?;
        run_psql(
            &psql,
            &admin_url,
            &format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"),
        )?;
        Ok(TestDb {
            name,
            url,
            admin_url,
            psql,
            server,
        })
    }

    /// The connection URL of this test's database (`postgres://user@host:port/name`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL of this test's database over the throwaway server's Unix
    /// socket (`postgres://postgres@localhost/name?host=/dir&port=N`); `None`
    /// on a `DATABASE_URL` server, whose socket this helper does not know.
    pub fn socket_url(&self) -> Option<String> {
        self.server.as_ref().map(|s| {
            format!(
                "postgres://postgres@localhost/{}?host={}&port={}",
                self.name,
                s.dir.display(),
                s.port
            )
        })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of the maintenance database `postgres` on the same server.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// Whether this database lives on a throwaway server started by this helper
    /// (rather than on the server named by `DATABASE_URL`).
    pub fn is_throwaway(&self) -> bool {
        self.server.is_some()
    }

    /// Runs SQL in this database with `psql` and returns its unaligned,
    /// tuples-only output, trimmed (handy for setup and assertions).
    ///
    /// # Errors
    ///
    /// [`Error::Command`] with psql's message when the SQL fails.
    pub fn psql(&self, sql: &str) -> Result<String, Error> {
        run_psql(&self.psql, &self.url, sql)
    }

    /// Runs SQL in the server's maintenance database `postgres` (for
    /// example to terminate this database's sessions or drop it).
    ///
    /// # Errors
    ///
    /// [`Error::Command`] with psql's message when the SQL fails.
    pub fn psql_admin(&self, sql: &str) -> Result<String, Error> {
        run_psql(&self.psql, &self.admin_url, sql)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // A throwaway server is removed whole when its last user goes, so only
        // databases on a caller's server need dropping.
        if self.server.is_none() {
            let _ = run_psql(
                &self.psql,
                &self.admin_url,
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            );
        }
    }
}

/// A throwaway PostgreSQL server owned by this process.
#[derive(Debug)]
struct Server {
    dir: PathBuf,
    port: u16,
    bindir: PathBuf,
    run_as: Option<(u32, u32)>,
    postmaster: Mutex<Option<Child>>,
    watchdog: Mutex<Option<Child>>,
}

/// The server shared by the tests of this process, alive while anyone uses it.
static SHARED: Mutex<Weak<Server>> = Mutex::new(Weak::new());

impl Server {
    fn shared() -> Result<Arc<Server>, Error> {
        let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(server) = slot.upgrade() {
            return Ok(server);
        }
        let server = Arc::new(Server::start()?);
        *slot = Arc::downgrade(&server);
        Ok(server)
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn start() -> Result<Server, Error> {
        let bindir = find_bindir().ok_or(Error::BinariesNotFound)?;
        let run_as = if running_as_root() {
            Some(postgres_ids().ok_or(Error::NoPostgresUser)?)
        } else {
            None
        };
        let dir = make_temp_dir(run_as)?;
        let mut initdb = Command::new(bindir.join("initdb"));
        initdb
            .arg("-D")
            .arg(dir.join("data"))
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .stdin(Stdio::null());
        as_user(&mut initdb, run_as);
        let out = initdb.output().map_err(|e| Error::Command {
            what: "initdb".into(),
            detail: e.to_string(),
        });
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        if !out.status.success() {
            let _ = fs::remove_dir_all(&dir);
            return Err(Error::Command {
                what: "initdb".into(),
                detail: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        let watchdog = spawn_watchdog(&dir);
        let mut server = Server {
            dir,
            port: 0,
            bindir,
            run_as,
            postmaster: Mutex::new(None),
            watchdog: Mutex::new(watchdog),
        };
        // A free port can be taken between probing and binding; try a few.
        // (On failure `server` is dropped, which removes the directory.)
        let mut last_err = None;
        for _ in 0..3 {
            server.port = free_port().map_err(|e| Error::Io(e.to_string()))?;
            match server.spawn_postmaster().and_then(|()| server.wait_ready()) {
                Ok(()) => return Ok(server),
                Err(e) => {
                    server.stop_postmaster(Shutdown::Immediate);
                    last_err = Some(e);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| Error::StartTimeout { log: String::new() }))
    }

    /// Starts `postgres` on the data directory and port of this server.
    fn spawn_postmaster(&self) -> Result<(), Error> {
        let log_path = self.dir.join("server.log");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| Error::Io(e.to_string()))?;
        if let Some((uid, gid)) = self.run_as {
            let _ = std::os::unix::fs::chown(&log_path, Some(uid), Some(gid));
        }
        let log_err = log.try_clone().map_err(|e| Error::Io(e.to_string()))?;
        let mut postgres = Command::new(self.bindir.join("postgres"));
        postgres
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=300",
                // Tests count the statements a call sends by asking the
                // server (`CREATE EXTENSION pg_stat_statements`).
                "-c",
                "shared_preload_libraries=pg_stat_statements",
            ])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        as_user(&mut postgres, self.run_as);
        let child = postgres.spawn().map_err(|e| Error::Command {
            what: "postgres".into(),
            detail: e.to_string(),
        })?;
        *self.postmaster.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
        Ok(())
    }

    fn wait_ready(&self) -> Result<(), Error> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                // Accepting TCP is not yet accepting queries (startup may still
                // be recovering); ask the server itself.
                if run_psql(&self.bindir.join("psql"), &self.url("postgres"), "SELECT 1").is_ok() {
                    return Ok(());
                }
            }
            let exited = self
                .postmaster
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_mut()
                .is_none_or(|child| child.try_wait().ok().flatten().is_some());
            if exited || Instant::now() > deadline {
                let mut log = String::new();
                let _ = fs::File::open(self.dir.join("server.log"))
                    .and_then(|mut f| f.read_to_string(&mut log));
                return Err(Error::StartTimeout { log });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the postmaster and waits for it to exit; `false` if it had to
    /// be killed.
    fn stop_postmaster(&self, how: Shutdown) -> bool {
        let mut slot = self.postmaster.lock().unwrap_or_else(|e| e.into_inner());
        let Some(mut child) = slot.take() else {
            return true;
        };
        // SIGQUIT is PostgreSQL's immediate shutdown: children exit at once and
        // nothing needs to be flushed for a throwaway cluster. SIGINT is the
        // fast shutdown of `pg_ctl stop -m fast`: sessions are terminated
        // with an error message, then a checkpoint is written.
        let signal = match how {
            Shutdown::Immediate => "-QUIT",
            Shutdown::Fast => "-INT",
        };
        let _ = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }
}

/// How a server is stopped.
#[derive(Debug, Clone, Copy)]
enum Shutdown {
    Immediate,
    Fast,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_postmaster(Shutdown::Immediate);
        if let Some(mut w) = self
            .watchdog
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = w.kill();
            let _ = w.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A PostgreSQL server of the calling test's own, which the test may stop
/// and start again — for testing what a client does across a restart.
///
/// Unlike [`TestDb`], nothing is shared: each value is its own cluster
/// (about 1.5 s of `initdb`), on its own port, removed when dropped.
///
/// ```no_run
/// let server = novacron_testkit::PgServer::start()?;
/// let url = server.url("postgres");
/// server.restart()?; // `pg_ctl restart -m fast`: sessions end, the port comes back
/// assert_eq!(server.psql("postgres", "SELECT 1")?, "1");
/// # Ok::<(), novacron_testkit::Error>(())
/// ```
#[derive(Debug)]
pub struct PgServer {
    server: Server,
}

impl PgServer {
    /// Initializes and starts a private server.
    ///
    /// # Errors
    ///
    /// As [`TestDb::new`]: missing binaries or a server that would not start.
    pub fn start() -> Result<PgServer, Error> {
        // Always local, even when DATABASE_URL names a server: that one is
        // not ours to restart.
        Ok(PgServer {
            server: Server::start()?,
        })
    }

    /// The connection URL of database `db` on this server, over TCP.
    pub fn url(&self, db: &str) -> String {
        self.server.url(db)
    }

    /// The TCP port the server listens on (the same across restarts).
    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// Runs SQL in database `db` with `psql`, like [`TestDb::psql`].
    ///
    /// # Errors
    ///
    /// [`Error::Command`] with psql's message when the SQL fails.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, Error> {
        run_psql(&self.server.bindir.join("psql"), &self.server.url(db), sql)
    }

    /// Fast shutdown (`pg_ctl stop -m fast`): open sessions are terminated
    /// with an error, the server exits and stops listening.
    ///
    /// # Errors
    ///
    /// [`Error::Command`] when the server had to be killed.
    pub fn stop(&self) -> Result<(), Error> {
        if self.server.stop_postmaster(Shutdown::Fast) {
            Ok(())
        } else {
            Err(Error::Command {
                what: "postgres fast shutdown".into(),
                detail: "the server did not exit within 30 s and was killed".into(),
            })
        }
    }

    /// Starts the stopped server again on the same port and data, and
    /// waits until it answers queries.
    ///
    /// # Errors
    ///
    /// [`Error::StartTimeout`] with the server log when it does not come back.
    pub fn start_again(&self) -> Result<(), Error> {
        self.server.spawn_postmaster()?;
        self.server.wait_ready()
    }

    /// [`stop`](Self::stop) then [`start_again`](Self::start_again): what
    /// `pg_ctl restart -m fast` does.
    ///
    /// # Errors
    ///
    /// As those two.
    pub fn restart(&self) -> Result<(), Error> {
        self.stop()?;
        self.start_again()
    }
}

/// A PgBouncer in front of a server, started from Debian's `pgbouncer`
/// binary with trust authentication on a free loopback port; stopped and
/// removed when dropped.
#[derive(Debug)]
pub struct Pgbouncer {
    dir: PathBuf,
    port: u16,
    child: Mutex<Child>,
}

/// PgBouncer's pooling mode (`pool_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolMode {
    /// A server connection per client connection.
    Session,
    /// A server connection per transaction: named prepared statements do
    /// not survive between transactions (before PgBouncer 1.21).
    Transaction,
}

impl Pgbouncer {
    /// Starts PgBouncer for every database of the server listening on
    /// 127.0.0.1:`upstream_port`, with at most `server_pool_size` server
    /// connections per database and user.
    ///
    /// # Errors
    ///
    /// [`Error::PgbouncerNotFound`] when the binary is missing (install
    /// Debian's `pgbouncer`); [`Error::StartTimeout`] with its log when it
    /// does not accept connections.
    pub fn start(
        upstream_port: u16,
        mode: PoolMode,
        server_pool_size: u32,
    ) -> Result<Pgbouncer, Error> {
        let binary = [
            "/usr/sbin/pgbouncer",
            "/usr/bin/pgbouncer",
            "/usr/local/bin/pgbouncer",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or(Error::PgbouncerNotFound)?;
        // PgBouncer refuses to run as root, like PostgreSQL.
        let run_as = if running_as_root() {
            Some(postgres_ids().ok_or(Error::NoPostgresUser)?)
        } else {
            None
        };
        let dir = make_temp_dir(run_as)?;
        let io = |e: std::io::Error| Error::Io(e.to_string());
        let mut last_err = None;
        for _ in 0..3 {
            let port = free_port().map_err(io)?;
            let ini = format!(
                "[databases]\n* = host=127.0.0.1 port={upstream_port}\n\
                 [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
                 auth_type = trust\nauth_file = {dir}/userlist.txt\npool_mode = {mode}\n\
                 default_pool_size = {server_pool_size}\nmax_client_conn = 5000\n\
                 ignore_startup_parameters = extra_float_digits,options\n\
                 logfile = {dir}/pgbouncer.log\nadmin_users = postgres\n",
                dir = dir.display(),
                mode = match mode {
                    PoolMode::Session => "session",
                    PoolMode::Transaction => "transaction",
                },
            );
            fs::write(dir.join("pgbouncer.ini"), ini).map_err(io)?;
            fs::write(dir.join("userlist.txt"), "\"postgres\" \"\"\n").map_err(io)?;
            let mut cmd = Command::new(&binary);
            cmd.arg(dir.join("pgbouncer.ini"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            as_user(&mut cmd, run_as);
            let mut child = cmd.spawn().map_err(|e| Error::Command {
                what: binary.display().to_string(),
                detail: e.to_string(),
            })?;
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let deadline = Instant::now() + Duration::from_secs(20);
            let ready = loop {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                    break true;
                }
                if child.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
                    break false;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            if ready {
                return Ok(Pgbouncer {
                    dir,
                    port,
                    child: Mutex::new(child),
                });
            }
            let _ = child.kill();
            let _ = child.wait();
            let mut log = String::new();
            let _ = fs::File::open(dir.join("pgbouncer.log"))
                .and_then(|mut f| f.read_to_string(&mut log));
            last_err = Some(Error::StartTimeout { log });
        }
        let _ = fs::remove_dir_all(&dir);
        Err(last_err.unwrap_or_else(|| Error::StartTimeout { log: String::new() }))
    }

    /// The URL of database `db` through this PgBouncer.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// The port PgBouncer listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Pgbouncer {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn as_user(cmd: &mut Command, run_as: Option<(u32, u32)>) {
    if let Some((uid, gid)) = run_as {
        cmd.uid(uid).gid(gid);
    }
}

/// Starts a shell that stops the server and removes its directory if this
/// process dies without running destructors (SIGKILL, abort). The server's
/// pid is read from its pid file, so a restarted postmaster is covered too.
fn spawn_watchdog(dir: &Path) -> Option<Child> {
    let script = format!(
        "while kill -0 {parent} 2>/dev/null; do sleep 1; done; \
         pid=$(head -n 1 '{dir}/data/postmaster.pid' 2>/dev/null); \
         [ -n \"$pid\" ] && kill -QUIT \"$pid\" 2>/dev/null; sleep 2; rm -rf '{dir}'",
        parent = std::process::id(),
        dir = dir.display()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()
}

fn run_psql(psql: &Path, url: &str, sql: &str) -> Result<String, Error> {
    let out = Command::new(psql)
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Command {
            what: format!("{} -c {sql}", psql.display()),
            detail: e.to_string(),
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(Error::Command {
            what: format!("psql -c {sql}"),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// Replaces the database name of a `postgres://` URL, keeping its query string.
fn replace_dbname(url: &str, db: &str) -> Result<String, Error> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or_else(|| Error::BadUrl(url.to_owned()))?;
    let scheme_len = url.len() - rest.len();
    let (before_query, query) = match rest.find('?') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let authority = before_query.split('/').next().unwrap_or(before_query);
    Ok(format!("{}{authority}/{db}{query}", &url[..scheme_len]))
}

fn find_bindir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            // Debian links initdb into /usr/local/bin; follow the link to the
            // real bindir so that postgres and psql of the same version are used.
            let real = fs::canonicalize(dir.join("initdb")).ok();
            if let Some(parent) = real.as_deref().and_then(Path::parent)
                && has_server(parent)
            {
                return Some(parent.to_path_buf());
            }
            if has_server(&dir) {
                return Some(dir);
            }
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_server(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

fn running_as_root() -> bool {
    // /proc/self is owned by the process's effective uid: no libc call needed.
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// The uid and gid of the `postgres` user, from /etc/passwd.
fn postgres_ids() -> Option<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != "postgres" {
            return None;
        }
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some((uid, gid))
    })
}

fn make_temp_dir(owner: Option<(u32, u32)>) -> Result<PathBuf, Error> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let base = std::env::temp_dir();
    for _ in 0..100 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = base.join(format!(
            "novacron-pg-{}-{}-{nanos:x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        match fs::create_dir(&dir) {
            Ok(()) => {
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                    .map_err(|e| Error::Io(e.to_string()))?;
                if let Some((uid, gid)) = owner {
                    std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                        .map_err(|e| Error::Io(e.to_string()))?;
                }
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::Io(format!("{}: {e}", dir.display()))),
        }
    }
    Err(Error::Io(
        "could not create a unique temporary directory".into(),
    ))
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_dbname_keeps_authority_and_query() {
        assert_eq!(
            replace_dbname("postgres://u:p@h:5432/app?sslmode=disable", "t1"),
            Ok("postgres://u:p@h:5432/t1?sslmode=disable".to_owned())
        );
        assert_eq!(
            replace_dbname("postgresql://h", "t2"),
            Ok("postgresql://h/t2".to_owned())
        );
        assert_eq!(
            replace_dbname("mysql://h/db", "t"),
            Err(Error::BadUrl("mysql://h/db".to_owned()))
        );
    }

    #[test]
    fn binaries_not_found_message_says_what_to_install() {
        let msg = Error::BinariesNotFound.to_string();
        assert!(msg.contains("apt-get install postgresql"), "{msg}");
        assert!(msg.contains("DATABASE_URL"), "{msg}");
    }
}
