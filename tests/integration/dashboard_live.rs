//! The live fleet dashboard (`examples/fleet_dashboard`), started in-process
//! on loopback and driven by real WebSocket and HTTP clients: fan-out per
//! organization, the registry after disconnects, slow and hostile clients,
//! the upgrade limit, the API's errors, the streamed export, two instances
//! on one PostgreSQL, and the database going away and coming back.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::server::{self, Config, Server};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A small fleet ticking fast, on any free port.
fn config() -> Config {
    let mut c = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        tick: Duration::from_millis(150),
        panel_every: 1_000,
        ..Config::default()
    };
    c.fleet.n_vms = 240;
    c.fleet.n_orgs = 4;
    c.fleet.n_hosts = 30;
    c.fleet.hours = 2;
    c
}

async fn start(c: Config) -> Server {
    server::start(c)
        .await
        .unwrap_or_else(|e| panic!("server: {e}"))
}

async fn connect(s: &Server, org: i64) -> Ws {
    let url = format!("ws://{}/ws?org={org}", s.addr);
    tokio_tungstenite::connect_async(url)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
        .0
}

/// The next JSON text frame, or `None` at a close or after `wait`.
async fn next_json(ws: &mut Ws, wait: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                return Some(serde_json::from_str(&t).unwrap_or_else(|e| panic!("{e}: {t}")));
            }
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            _ => return None,
        }
    }
}

/// Reads until a close frame arrives; returns its code.
async fn close_code(ws: &mut Ws) -> Option<CloseCode> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| f.code),
            Ok(Some(Ok(_))) => {}
            _ => return None,
        }
    }
    None
}

/// Tick numbers a client saw, with the organization of each frame.
async fn collect_ticks(ws: &mut Ws, until_tick: u64) -> Vec<(i64, u64)> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let Some(f) = next_json(ws, Duration::from_secs(5)).await else {
            break;
        };
        if f["type"] == "tick" {
            let t = f["tick"].as_u64().unwrap_or(0);
            seen.push((f["org"].as_i64().unwrap_or(-1), t));
            if t >= until_tick {
                break;
            }
        }
    }
    seen
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_tick(s: &Server, at_least: u64) {
    wait_for("a tick", || s.state.tick() >= at_least).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_gets_every_tick_of_its_org_and_the_registry_holds_exactly_the_rest() {
    let s = start(config()).await;
    wait_tick(&s, 1).await;
    let mut clients = Vec::new();
    for k in 0..200 {
        let org = k % 4 + 1;
        clients.push((org, connect(&s, org).await));
    }
    wait_for("200 registrations", || s.state.hub.len() == 200).await;
    let target = s.state.tick() + 6;
    let seen: Vec<Vec<(i64, u64)>> =
        futures_util::future::join_all(clients.iter_mut().map(|(_, ws)| collect_ticks(ws, target)))
            .await;
    for ((org, _), ticks) in clients.iter().zip(&seen) {
        assert!(ticks.len() >= 5, "org {org}: only {ticks:?}");
        assert!(
            ticks.iter().all(|(o, _)| o == org),
            "org {org} got {ticks:?}"
        );
        // Consecutive: the first is the snapshot on connect, then every tick.
        for w in ticks.windows(2) {
            assert_eq!(
                w[1].1,
                w[0].1 + 1,
                "org {org}: a tick was skipped in {ticks:?}"
            );
        }
        assert_eq!(ticks.last().map(|t| t.1), Some(target));
    }

    // Disconnect half in random order: the registry holds exactly the rest.
    let mut rng = crate::fleet::FleetRng::seed_from_u64(7);
    clients.shuffle(&mut rng);
    let rest = clients.split_off(100);
    let mut per_org: HashMap<i64, usize> = HashMap::new();
    for (org, _) in &rest {
        *per_org.entry(*org).or_default() += 1;
    }
    for (_, mut ws) in clients {
        let _ = ws.close(None).await;
    }
    wait_for("100 removals", || s.state.hub.len() == 100).await;
    for org in 1..=4 {
        assert_eq!(
            s.state.hub.topic_len(org),
            per_org.get(&org).copied().unwrap_or(0)
        );
    }
    let counts = s.state.hub.counts();
    assert_eq!((counts.connects, counts.disconnects), (200, 100));
    // The rest still receive their organization's ticks.
    let mut rest = rest;
    let after = s.state.tick() + 2;
    for (org, ws) in rest.iter_mut().take(8) {
        let ticks = collect_ticks(ws, after).await;
        assert!(ticks.iter().any(|t| t.1 >= after) && ticks.iter().all(|t| t.0 == *org));
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped_and_the_others_miss_no_tick() {
    let mut c = config();
    c.ping_interval = Duration::from_millis(300);
    let s = start(c).await;
    wait_tick(&s, 1).await;
    // Never read: no pong ever answers the server's pings.
    let mut silent = Vec::new();
    for _ in 0..10 {
        silent.push(connect(&s, 1).await);
    }
    let mut fast = Vec::new();
    for _ in 0..20 {
        fast.push(connect(&s, 1).await);
    }
    wait_for("30 registrations", || s.state.hub.len() == 30).await;
    let target = s.state.tick() + 10;
    let seen: Vec<_> =
        futures_util::future::join_all(fast.iter_mut().map(|ws| collect_ticks(ws, target))).await;
    for ticks in &seen {
        for w in ticks.windows(2) {
            assert_eq!(
                w[1].1,
                w[0].1 + 1,
                "a fast client skipped a tick: {ticks:?}"
            );
        }
        assert_eq!(ticks.last().map(|t| t.1), Some(target));
    }
    // The silent ones are gone (two missed pongs), the fast ones stay.
    wait_for("the silent clients' removal", || s.state.hub.len() == 20).await;
    assert!(
        s.state
            .liveness_closed
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 10
    );
    drop(silent);
    s.stop().await;
}

// One thread: the burst below is queued before any writer task runs, as it
// would be for a client whose socket is full.
#[tokio::test(flavor = "current_thread")]
async fn a_client_past_its_byte_cap_is_closed_with_1013_and_counted() {
    use crate::server::hub::{FLEET, Frame, Kind};
    let mut c = config();
    c.event_cap = 64 << 10;
    let s = start(c).await;
    wait_tick(&s, 1).await;
    let mut victim = connect(&s, 2).await;
    let mut bystander = connect(&s, 3).await;
    wait_for("2 registrations", || s.state.hub.len() == 2).await;
    // Drain the snapshot frames so that both outboxes are empty.
    let _ = next_json(&mut victim, Duration::from_secs(2)).await;
    let big = Frame::from(format!(
        "{{\"type\":\"notice\",\"pad\":\"{}\"}}",
        "x".repeat(8 << 10)
    ));
    // 9 events of 8 KiB: past 64 KiB for every client at once.
    for _ in 0..9 {
        s.state.hub.publish(FLEET, Kind::Event, &big);
    }
    assert_eq!(s.state.hub.counts().slow_closed, 2);
    assert_eq!(close_code(&mut victim).await, Some(CloseCode::Again));
    assert_eq!(close_code(&mut bystander).await, Some(CloseCode::Again));
    wait_for("the removals", || s.state.hub.is_empty()).await;
    // A new client is served normally.
    let mut again = connect(&s, 2).await;
    let hello = next_json(&mut again, Duration::from_secs(5)).await;
    assert_eq!(hello.map(|h| h["type"].clone()), Some(Value::from("hello")));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_client_messages_close_that_client_with_the_right_code_only() {
    let s = start(config()).await;
    wait_tick(&s, 1).await;
    let mut bystander = connect(&s, 1).await;
    let mut cases = vec![
        (Message::text("hello"), CloseCode::Invalid),
        (Message::text(r#"{"type":"subscribe"}"#), CloseCode::Invalid),
        (Message::binary(vec![1u8, 2, 3]), CloseCode::Unsupported),
        (Message::text("x".repeat(10_000)), CloseCode::Size),
    ];
    for (msg, want) in cases.drain(..) {
        let mut ws = connect(&s, 1).await;
        ws.send(msg).await.unwrap_or_else(|e| panic!("send: {e}"));
        assert_eq!(close_code(&mut ws).await, Some(want));
    }
    // A resync is answered with the newest frames, and the client stays.
    let mut ws = connect(&s, 1).await;
    let _ = next_json(&mut ws, Duration::from_secs(2)).await;
    ws.send(Message::text(r#"{"type":"resync"}"#))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut kinds = Vec::new();
    for _ in 0..3 {
        if let Some(f) = next_json(&mut ws, Duration::from_secs(3)).await {
            kinds.push(f["type"].as_str().unwrap_or("").to_string());
        }
    }
    assert!(kinds.iter().any(|k| k == "tick"), "{kinds:?}");
    let t = s.state.tick() + 2;
    let ticks = collect_ticks(&mut bystander, t).await;
    assert_eq!(
        ticks.last().map(|x| x.1),
        Some(t),
        "the bystander stopped receiving"
    );
    assert!(
        s.state
            .protocol_closed
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 4
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_flood_is_refused_with_503_retry_after_and_the_api_stays_responsive() {
    let mut c = config();
    c.upgrade_rate = 10.0;
    c.upgrade_burst = 20.0;
    let s = start(c).await;
    wait_tick(&s, 1).await;
    let url = format!("ws://{}/ws?org=1", s.addr);
    let attempts = futures_util::future::join_all(
        (0..120).map(|_| tokio_tungstenite::connect_async(url.clone())),
    )
    .await;
    let mut accepted = Vec::new();
    let mut refused = 0;
    for a in attempts {
        match a {
            Ok((ws, _)) => accepted.push(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                assert_eq!(r.status(), 503);
                let retry = r.headers().get("retry-after").and_then(|v| v.to_str().ok());
                assert!(
                    retry
                        .and_then(|v| v.parse::<u64>().ok())
                        .is_some_and(|v| v >= 1)
                );
                refused += 1;
            }
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(accepted.len() + refused, 120);
    assert!(refused >= 80, "only {refused} refused");
    assert!(
        (20..=40).contains(&accepted.len()),
        "{} accepted",
        accepted.len()
    );
    let health: Value = reqwest::get(format!("{}/api/health", s.url()))
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(health["upgrades_refused"].as_u64(), Some(refused as u64));
    s.stop().await;
}

async fn get(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap_or_else(|e| panic!("{e}"));
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r.text().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(ct.starts_with("application/json"), "{status} {ct}: {body}");
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_pages_by_cursor_and_answers_bad_input_with_4xx_json() {
    let s = start(config()).await;
    wait_tick(&s, 1).await;
    let base = s.url();
    let (status, orgs) = get(&format!("{base}/api/orgs")).await;
    assert_eq!(status, 200);
    let org = &orgs[0];
    let want = org["vms"].as_u64().unwrap_or(0) as usize;
    // Page through the whole organization: disjoint pages in name order.
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut first_cursor = None;
    loop {
        let mut url = format!("{base}/api/orgs/{}/vms?limit=7", org["id"]);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = get(&url).await;
        assert_eq!(status, 200, "{page}");
        for r in page["rows"].as_array().into_iter().flatten() {
            names.push(r["name"].as_str().unwrap_or("").to_string());
        }
        cursor = page["next_cursor"].as_str().map(str::to_string);
        first_cursor = first_cursor.or(cursor.clone());
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(names.len(), want);
    assert!(names.windows(2).all(|w| w[0] < w[1]), "not in name order");

    let mut tampered = first_cursor.unwrap_or_default();
    let last = tampered
        .pop()
        .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
    tampered.push(last);
    let bad = [
        (format!("{base}/api/orgs/999/vms"), 404),
        (format!("{base}/api/orgs/abc/vms"), 400),
        (format!("{base}/api/orgs/1/vms?limit=0"), 400),
        (format!("{base}/api/orgs/1/vms?limit=100000"), 400),
        (format!("{base}/api/orgs/1/vms?limit=ten"), 400),
        (format!("{base}/api/orgs/1/vms?cursor={tampered}"), 400),
        (format!("{base}/api/orgs/1/vms?cursor=%00%01garbage"), 400),
        (format!("{base}/api/export?format=xml"), 400),
        (format!("{base}/ws?org=999"), 404),
        (format!("{base}/no/such/route"), 404),
    ];
    for (url, want) in bad {
        let (status, body) = get(&url).await;
        assert_eq!(status, want, "{url}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{url}: {body}"
        );
    }
    // A cursor of another organization is refused too.
    if let Some(c) = get(&format!("{base}/api/orgs/1/vms?limit=1")).await.1["next_cursor"].as_str()
    {
        let (status, _) = get(&format!("{base}/api/orgs/2/vms?cursor={c}")).await;
        assert_eq!(status, 400);
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_streams_every_vm_as_json_and_ndjson_compressed_on_request() {
    let s = start(config()).await;
    wait_tick(&s, 2).await;
    let base = s.url();
    let live: usize = s.state.orgs.iter().map(|o| o.vms).sum();
    let json: Value = reqwest::get(format!("{base}/api/export"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = json.as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), live);
    let mut ids: Vec<i64> = rows
        .iter()
        .map(|r| r["vm_id"].as_i64().unwrap_or(0))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), live, "a VM twice or missing");
    assert!(
        rows.iter().all(|r| r["metrics"]["cpu"].is_number()),
        "a VM without metrics"
    );

    let nd = reqwest::get(format!("{base}/api/export?format=ndjson"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        nd.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/x-ndjson")
    );
    let text = nd.text().await.unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), live);

    for encoding in ["gzip", "br"] {
        let r = reqwest::Client::new()
            .get(format!("{base}/api/export"))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok()),
            Some(encoding)
        );
        let raw = r.bytes().await.unwrap_or_else(|e| panic!("{e}"));
        if encoding == "gzip" {
            use std::io::Read;
            let mut out = String::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_string(&mut out)
                .unwrap_or_else(|e| panic!("{e}"));
            let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(v.as_array().map(Vec::len), Some(live));
            assert!(raw.len() * 3 < out.len(), "gzip did not compress");
        } else {
            assert!(!raw.is_empty() && raw[0] != b'[', "not brotli");
        }
    }
    s.stop().await;
}

/// The tick frames one client receives, by tick number.
async fn frames_by_tick(ws: &mut Ws, n: usize) -> BTreeMap<u64, (i64, Value)> {
    let mut out = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    while out.len() < n && Instant::now() < deadline {
        let Some(f) = next_json(ws, Duration::from_secs(10)).await else {
            break;
        };
        if f["type"] == "tick" {
            out.insert(
                f["tick"].as_u64().unwrap_or(0),
                (f["ts"].as_i64().unwrap_or(0), f["vms"].clone()),
            );
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_deliver_the_same_updates_to_their_clients() {
    let db = novacron_testkit::TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let mut c = config();
    c.database_url = Some(db.url().to_string());
    c.tick = Duration::from_millis(400);
    c.cursor_key = Some([7; 32]);
    let writer = start(c.clone()).await;
    let mut reader_config = c;
    reader_config.simulate = false;
    let reader = start(reader_config).await;
    wait_tick(&writer, 1).await;
    wait_tick(&reader, 1).await;
    let mut a = connect(&writer, 3).await;
    let mut b = connect(&reader, 3).await;
    let (fa, fb) = tokio::join!(frames_by_tick(&mut a, 8), frames_by_tick(&mut b, 8));
    let common: Vec<u64> = fa.keys().filter(|t| fb.contains_key(t)).copied().collect();
    assert!(
        common.len() >= 5,
        "ticks {:?} vs {:?}",
        fa.keys(),
        fb.keys()
    );
    for t in &common {
        assert_eq!(fa[t], fb[t], "tick {t} differs between the instances");
        let vms = fa[t].1.as_array().map_or(0, Vec::len);
        assert_eq!(vms, writer.state.orgs[2].vms, "tick {t}");
    }
    let health: Value = reqwest::get(format!("{}/api/health", reader.url()))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(health["backend"], "postgres");
    // One cursor key: a page cursor from one instance continues at the other.
    let (_, first) = get(&format!("{}/api/orgs/3/vms?limit=5", writer.url())).await;
    let cursor = first["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, second) = get(&format!(
        "{}/api/orgs/3/vms?limit=5&cursor={cursor}",
        reader.url()
    ))
    .await;
    assert_eq!(status, 200, "{second}");
    assert!(second["rows"][0]["name"].as_str() > first["rows"][4]["name"].as_str());
    reader.stop().await;
    writer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_going_away_is_shown_and_the_live_updates_recover() {
    // Its own server: stopping it must not disturb the other tests.
    let pg = novacron_testkit::PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let mut c = config();
    c.database_url = Some(pg.url("postgres"));
    c.tick = Duration::from_millis(200);
    let s = start(c).await;
    wait_tick(&s, 2).await;
    let mut ws = connect(&s, 1).await;
    let health = |s: &Server| {
        let url = format!("{}/api/health", s.url());
        async move {
            reqwest::get(url)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .json::<Value>()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    assert_eq!(health(&s).await["db"], "up");

    pg.stop().unwrap_or_else(|e| panic!("{e}"));
    let mut saw_down = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && !saw_down {
        if let Some(f) = next_json(&mut ws, Duration::from_secs(2)).await {
            saw_down = f["type"] == "status" && f["db"] == "down";
        }
    }
    assert!(saw_down, "the client was not told the database is down");
    assert_eq!(health(&s).await["db"], "down");
    // The API answers 503 with a JSON error, never a 500.
    let (status, body) = get(&format!("{}/api/orgs/1/vms", s.url())).await;
    assert_eq!(status, 503, "{body}");

    pg.start_again().unwrap_or_else(|e| panic!("{e}"));
    let before = s.state.tick();
    let mut saw_up = false;
    let mut ticked = false;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && !(saw_up && ticked) {
        if let Some(f) = next_json(&mut ws, Duration::from_secs(2)).await {
            saw_up |= f["type"] == "status" && f["db"] == "up";
            ticked |= f["type"] == "tick" && f["tick"].as_u64().unwrap_or(0) > before;
        }
    }
    assert!(saw_up && ticked, "up: {saw_up}, new ticks: {ticked}");
    assert_eq!(health(&s).await["db"], "up");
    s.stop().await;
}

#[test]
fn the_outbox_of_a_client_that_never_reads_stays_bounded() {
    use crate::server::hub::{FLEET, Frame, Hub, Kind, Push};
    let cap = 16 << 10;
    let hub = Hub::new(cap);
    let silent = hub.register(1);
    let other = hub.register(2);
    let tick = Frame::from("x".repeat(4_000));
    let fleet = Frame::from("y".repeat(3_000));
    // A thousand ticks and panels later the silent client holds one of each:
    // gauges are coalesced, so its memory does not grow with time.
    for _ in 0..1_000 {
        hub.publish(1, Kind::Tick, &tick);
        hub.publish(FLEET, Kind::Fleet, &fleet);
    }
    assert_eq!(silent.outbox().pending_bytes(), 7_000);
    assert_eq!(
        other.outbox().pending_bytes(),
        3_000,
        "organization 2 got no tick of 1"
    );
    assert_eq!(hub.counts().coalesced, 999 + 2 * 999);
    // Events queue up to the byte cap; the one that would pass it closes the
    // client as slow, and it takes nothing more after that.
    let event = Frame::from("e".repeat(1_000));
    let mut pushes = Vec::new();
    for _ in 0..20 {
        pushes.push(silent.outbox().push(Kind::Event, event.clone()));
    }
    let queued = pushes.iter().filter(|p| **p == Push::Queued).count();
    assert_eq!(queued, cap / 1_000);
    assert_eq!(pushes[queued], Push::NowSlow);
    assert!(pushes[queued + 1..].iter().all(|p| *p == Push::Refused));
    assert!(silent.outbox().pending_bytes() <= 7_000);
    let batch = silent.outbox().take();
    assert_eq!(batch.closed, Some(crate::server::hub::Closed::SlowConsumer));
    // Removal by the guard, once; a second remove of the key finds nothing.
    let key = silent.key();
    drop(silent);
    assert!(!hub.remove(key));
    assert_eq!((hub.len(), hub.topic_len(1), hub.topic_len(2)), (1, 0, 1));
}
