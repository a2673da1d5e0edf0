//! The throwaway server lives exactly as long as its last user (own process,
//! so no other test keeps it alive).

use std::net::TcpStream;
use std::time::{Duration, Instant};

use novacron_testkit::TestDb;

fn port_of(url: &str) -> u16 {
    let authority = url.split('/').nth(2).expect("authority");
    authority
        .rsplit(':')
        .next()
        .expect("port")
        .parse()
        .expect("numeric port")
}

#[test]
fn server_stops_when_the_last_database_is_dropped_and_restarts_on_demand() {
    if std::env::var_os("DATABASE_URL").is_some() {
        // An external server is not ours to stop; the other tests cover it.
        let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
        assert!(!db.is_throwaway());
        return;
    }
    let first = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let second = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    assert!(first.is_throwaway());
    let port = port_of(first.url());
    assert_eq!(port, port_of(second.url()), "users share one server");
    drop(first);
    assert_eq!(second.psql("SELECT 1").expect("still up"), "1");
    drop(second);

    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "server still listening on {port} after its last user left"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let third = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(third.psql("SELECT 40 + 2").expect("restarted"), "42");
}
