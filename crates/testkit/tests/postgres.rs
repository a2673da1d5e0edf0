//! The helper gives each test a real PostgreSQL database of its own.

use novacron_testkit::TestDb;

fn connect(db: &TestDb) -> postgres::Client {
    postgres::Client::connect(db.url(), postgres::NoTls)
        .unwrap_or_else(|e| panic!("connect to {}: {e}", db.url()))
}

#[test]
fn a_client_library_connects_and_runs_a_query() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let mut client = connect(&db);
    let row = client
        .query_one(
            "SELECT current_database(), $1::int4 * 2, version()",
            &[&21i32],
        )
        .expect("query");
    let name: String = row.get(0);
    let doubled: i32 = row.get(1);
    let version: String = row.get(2);
    assert_eq!(name, db.name());
    assert_eq!(doubled, 42);
    assert!(version.starts_with("PostgreSQL"), "{version}");
}

#[test]
fn two_tests_get_separate_databases() {
    let a = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let b = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(a.name(), b.name());
    assert_ne!(a.url(), b.url());

    let mut ca = connect(&a);
    ca.batch_execute("CREATE TABLE only_in_a (x int); INSERT INTO only_in_a VALUES (1), (2)")
        .expect("create in a");
    let mut cb = connect(&b);
    let exists: bool = cb
        .query_one("SELECT to_regclass('only_in_a') IS NOT NULL", &[])
        .expect("query b")
        .get(0);
    assert!(
        !exists,
        "a table created in one test's database is visible in another's"
    );
    assert_eq!(a.psql("SELECT count(*) FROM only_in_a").expect("psql"), "2");
}

#[test]
fn bad_sql_comes_back_as_an_error_with_the_server_message() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let err = db
        .psql("SELECT * FROM no_such_table")
        .expect_err("must fail");
    assert!(err.to_string().contains("no_such_table"), "{err}");
}
