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

#[test]
fn private_server_restarts_on_the_same_port_and_keeps_its_data() {
    let server = novacron_testkit::PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    server
        .psql(
            "postgres",
            "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)",
        )
        .expect("create");
    let port = server.port();
    server.stop().expect("fast stop");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "a stopped server must not listen"
    );
    server.start_again().expect("start again");
    assert_eq!(server.port(), port);
    assert_eq!(
        server
            .psql("postgres", "SELECT v FROM kept")
            .expect("query"),
        "7"
    );
}

#[test]
fn pgbouncer_in_transaction_mode_forwards_queries() {
    let server = novacron_testkit::PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let bouncer = novacron_testkit::Pgbouncer::start(
        server.port(),
        novacron_testkit::PoolMode::Transaction,
        2,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut client =
        postgres::Client::connect(&bouncer.url("postgres"), postgres::NoTls).expect("connect");
    let rows = client.simple_query("SELECT 6 * 7").expect("simple query");
    let value = rows.iter().find_map(|m| match m {
        postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
        _ => None,
    });
    assert_eq!(value.as_deref(), Some("42"));
}
