//! The WebSocket endpoint `GET /ws?org=N`.
//!
//! - Upgrades pass a token bucket first: past the rate, `503` with
//!   `Retry-After` (a reconnect storm is refused cheaply, before any
//!   per-connection memory exists).
//! - Per-connection buffers are small: 4 KiB read buffer (tungstenite's
//!   default 128 KiB would cost ~1.3 GB per 10,000 clients); the frames a
//!   client has pending go out in one write, and the write buffer is capped.
//! - On connect the client gets a `hello` and the newest frames of its
//!   organization and the fleet; afterwards whatever its outbox holds.
//! - Liveness: a ping every `ping_interval`; a client that answers nothing
//!   for two intervals is dropped (one tokio timer per connection, O(1)).
//! - Client messages: `{"type":"resync"}` re-sends the newest frames;
//!   anything else that is text is closed with 1007, binary with 1003, a
//!   message over `max_client_message` with 1009. A slow consumer past its
//!   byte cap is closed with 1013 ("try again later").

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State as AxState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;

use super::State;
use super::api::ApiError;
use super::hub::{Closed, Kind, Registration};
use super::live::encode;

/// Close codes (RFC 6455 §7.4.1).
pub mod close {
    /// The endpoint is going away (server shutdown).
    pub const GOING_AWAY: u16 = 1001;
    /// A data type the server does not accept (binary).
    pub const UNSUPPORTED: u16 = 1003;
    /// A message that is not what the protocol says (not our JSON).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// A message too big to process.
    pub const TOO_BIG: u16 = 1009;
    /// Try again later: the client fell too far behind.
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

/// Read buffer per connection, bytes.
pub const READ_BUFFER: usize = 4 << 10;
/// Bytes of frames collected before tungstenite writes (a batch is flushed
/// at its end anyway): one write per batch instead of one per frame.
pub const WRITE_BATCH: usize = 16 << 10;
/// Most bytes tungstenite may hold unsent per connection.
pub const MAX_WRITE_BUFFER: usize = 256 << 10;

/// A token bucket for upgrades.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    bucket: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    /// `rate` tokens a second, at most `burst` saved up.
    pub fn new(rate: f64, burst: f64) -> RateLimiter {
        RateLimiter {
            rate: rate.max(0.0),
            burst: burst.max(1.0),
            bucket: Mutex::new((burst.max(1.0), Instant::now())),
        }
    }

    /// Takes a token, or says how long until one is there.
    pub fn try_take(&self) -> Result<(), Duration> {
        let mut b = self
            .bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let refill = now.duration_since(b.1).as_secs_f64() * self.rate;
        b.0 = (b.0 + refill).min(self.burst);
        b.1 = now;
        if b.0 >= 1.0 {
            b.0 -= 1.0;
            Ok(())
        } else if self.rate > 0.0 {
            Err(Duration::from_secs_f64((1.0 - b.0) / self.rate))
        } else {
            Err(Duration::from_secs(60))
        }
    }
}

/// Query of `/ws`.
#[derive(serde::Deserialize)]
pub struct WsQuery {
    /// Organization id.
    org: i64,
}

/// `GET /ws?org=N`.
pub async fn handler(
    AxState(state): AxState<Arc<State>>,
    query: Result<Query<WsQuery>, axum::extract::rejection::QueryRejection>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return ApiError::bad_request("pass the organization as ?org=<id>").into_response();
    };
    if state.org(q.org).is_none() {
        return ApiError::not_found(format!(
            "no organization {}; GET /api/orgs lists them",
            q.org
        ))
        .into_response();
    }
    let Ok(ws) = ws else {
        return ApiError::bad_request(
            "this endpoint takes a WebSocket upgrade (GET with Upgrade: websocket)",
        )
        .into_response();
    };
    if let Err(wait) = state.limiter.try_take() {
        state.upgrades_refused.fetch_add(1, Ordering::Relaxed);
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut r = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many connections opening at once; retry after the given seconds",
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let max = state.config.max_client_message;
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BATCH)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| connection(state, q.org, socket))
}

#[derive(serde::Serialize)]
struct Hello {
    r#type: &'static str,
    org: i64,
    tick: u64,
    ping_ms: u64,
}

/// Pushes the hello and the newest frames into a client's outbox.
fn snapshot(state: &State, reg: &Registration, org: i64) {
    let hello = encode(&Hello {
        r#type: "hello",
        org,
        tick: state.tick(),
        ping_ms: state.config.ping_interval.as_millis() as u64,
    });
    reg.outbox().push(Kind::Event, hello);
    resend(state, reg.outbox(), org);
}

/// What a client message asks for.
enum Verdict {
    /// Nothing to do.
    Fine,
    /// The client closed or the socket failed: nothing more to send.
    Gone,
    /// Close with this code and reason.
    Close(u16, &'static str),
}

/// Judges one message from the client (answering a resync on the way).
fn judge(
    state: &State,
    outbox: &super::hub::Outbox,
    org: i64,
    msg: Option<Result<Message, axum::Error>>,
) -> Verdict {
    #[derive(serde::Deserialize)]
    struct ClientMsg {
        r#type: String,
    }
    match msg {
        None | Some(Ok(Message::Close(_))) => Verdict::Gone,
        Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMsg>(&text) {
            Ok(m) if m.r#type == "resync" => {
                resend(state, outbox, org);
                Verdict::Fine
            }
            Ok(m) if m.r#type == "ping" => Verdict::Fine,
            _ => Verdict::Close(
                close::INVALID_PAYLOAD,
                "expected {\"type\":\"resync\"} or {\"type\":\"ping\"}",
            ),
        },
        Some(Ok(Message::Binary(_))) => {
            Verdict::Close(close::UNSUPPORTED, "binary messages are not accepted")
        }
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Verdict::Fine,
        Some(Err(e)) => {
            if too_big(e) {
                Verdict::Close(close::TOO_BIG, "message too big")
            } else {
                Verdict::Gone
            }
        }
    }
}

/// One connection, one task: registered for its lifetime (the guard
/// removes it), reading, writing and pinging in one loop.
async fn connection(state: Arc<State>, org: i64, mut socket: WebSocket) {
    let reg = state.hub.register(org);
    snapshot(&state, &reg, org);
    let outbox = reg.outbox().clone();
    let ping_every = state.config.ping_interval;
    let send_timeout = state.config.send_timeout;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let mut last_seen = Instant::now();
    let mut close_with: Option<(u16, &'static str)> = None;
    loop {
        tokio::select! {
            batch = outbox.wait() => {
                if batch.gone {
                    break;
                }
                // Every pending frame in one write: feed, then one flush.
                let write = async {
                    for f in batch.frames {
                        socket.feed(Message::Text(f)).await?;
                    }
                    socket.flush().await
                };
                if !matches!(tokio::time::timeout(send_timeout, write).await, Ok(Ok(()))) {
                    state.liveness_closed.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                if batch.closed == Some(Closed::SlowConsumer) {
                    close_with = Some((close::TRY_AGAIN_LATER, "too far behind; reconnect"));
                    break;
                }
            }
            msg = socket.recv() => {
                last_seen = Instant::now();
                match judge(&state, &outbox, org, msg) {
                    Verdict::Fine => {}
                    Verdict::Gone => break,
                    Verdict::Close(code, reason) => {
                        state.protocol_closed.fetch_add(1, Ordering::Relaxed);
                        close_with = Some((code, reason));
                        break;
                    }
                }
            }
            _ = ping.tick() => {
                let ping_frame = Message::Ping(bytes::Bytes::new());
                if last_seen.elapsed() > ping_every * 2
                    || !matches!(tokio::time::timeout(send_timeout, socket.send(ping_frame)).await, Ok(Ok(())))
                {
                    state.liveness_closed.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
    }
    if let Some((code, reason)) = close_with {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            socket.send(Message::Close(Some(frame))),
        )
        .await;
    }
    drop(reg);
}

/// Re-sends the newest frames (a client that saw a gap asked for them).
fn resend(state: &State, outbox: &super::hub::Outbox, org: i64) {
    // Pushed while the read lock is held: the processor updates `latest`
    // before it publishes, so a newer frame always lands after (and
    // replaces) the one pushed here, never the other way round.
    let Ok(latest) = state.latest.read() else {
        return;
    };
    if let Some(f) = latest.fleet.clone() {
        outbox.push(Kind::Fleet, f);
    }
    if let Some(f) = latest.org_frames.get(&org).cloned() {
        outbox.push(Kind::Tick, f);
    }
}

/// Whether a read failed because the message passed the size limit.
fn too_big(e: axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error as WsError;
    match e.into_inner().downcast::<WsError>() {
        Ok(inner) => matches!(*inner, WsError::Capacity(_)),
        Err(_) => false,
    }
}
