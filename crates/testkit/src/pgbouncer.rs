//! `Pgbouncer`: a real PgBouncer in front of a test server.

use crate::error::*;
use crate::process::*;
use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
