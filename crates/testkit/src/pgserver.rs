//! `PgServer`: a private PostgreSQL server a test may stop and restart.

use crate::error::*;
use crate::process::*;
use crate::testdb::*;

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
