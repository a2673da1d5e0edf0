//! `TestDb`: a private database per test, on `DATABASE_URL` or on the
//! shared throwaway server.

use crate::error::*;
use crate::process::*;
use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

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
pub(crate) struct Server {
    pub(crate) dir: PathBuf,
    pub(crate) port: u16,
    pub(crate) bindir: PathBuf,
    pub(crate) run_as: Option<(u32, u32)>,
    pub(crate) postmaster: Mutex<Option<Child>>,
    pub(crate) watchdog: Mutex<Option<Child>>,
}

/// The server shared by the tests of this process, alive while anyone uses it.
pub(crate) static SHARED: Mutex<Weak<Server>> = Mutex::new(Weak::new());

impl Server {
    pub(crate) fn shared() -> Result<Arc<Server>, Error> {
        let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(server) = slot.upgrade() {
            return Ok(server);
        }
        let server = Arc::new(Server::start()?);
        *slot = Arc::downgrade(&server);
        Ok(server)
    }

    pub(crate) fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    pub(crate) fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub(crate) fn start() -> Result<Server, Error> {
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
    pub(crate) fn spawn_postmaster(&self) -> Result<(), Error> {
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

    pub(crate) fn wait_ready(&self) -> Result<(), Error> {
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
    pub(crate) fn stop_postmaster(&self, how: Shutdown) -> bool {
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
pub(crate) enum Shutdown {
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
