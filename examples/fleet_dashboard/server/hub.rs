//! The WebSocket client registry (the report's bottleneck 5: clean-up by
//! linear search).
//!
//! Clients live in `SHARDS` generational slot maps, each behind its own lock;
//! a client's key names its shard, slot and generation, so removal is one
//! slot-map remove plus one `swap_remove` in its topic's member list (the
//! entry remembers its position there) — O(1), never a scan, and a stale key
//! after the slot is reused removes nothing. Removal runs from the
//! [`Registration`] drop guard, so a connection task that ends for any reason
//! (close, error, panic, slow-consumer kill) leaves the registry.
//!
//! Each client owns an [`Outbox`]: *gauge* frames (a tick's latest values,
//! the fleet panels) are coalesced per kind — a client that falls behind gets
//! the newest snapshot instead of a backlog — and *event* frames queue up to a
//! byte cap, past which the client is marked slow and its connection closes
//! with 1013 (counted). A publish encodes nothing: the caller encodes a frame
//! once into a [`Frame`] and every outbox takes a reference-counted clone.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use slotmap::{DefaultKey, SlotMap};
use tokio::sync::Notify;

/// One encoded frame (text: the page reads JSON). Cloning shares the
/// buffer (a reference count), so a tick is encoded once for every client.
pub type Frame = axum::extract::ws::Utf8Bytes;

/// Shards of the registry (a power of two; more shards, less lock contention).
pub const SHARDS: usize = 16;

/// A topic: one organization's updates. `FLEET` reaches every client.
pub type Topic = i64;

/// The topic every client is on, besides its organization's.
pub const FLEET: Topic = 0;

/// Where a client is: shard and generational slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientKey {
    shard: usize,
    slot: DefaultKey,
}

/// Frames a client is sent, by how an outbox treats a backlog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The latest values of the client's organization: a newer one replaces
    /// an unsent older one.
    Tick,
    /// The fleet-wide panels: coalesced like ticks.
    Fleet,
    /// Something that happened (alerts changed, a notice): queued, byte-capped.
    Event,
}

/// Why an outbox stopped taking frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Its queued events passed the byte cap: close with 1013.
    SlowConsumer,
}

/// Counters of the hub (all monotonic but `clients`).
#[derive(Debug, Default)]
pub struct HubStats {
    /// Clients registered now.
    pub clients: AtomicUsize,
    /// Registrations ever.
    pub connects: AtomicU64,
    /// Removals ever.
    pub disconnects: AtomicU64,
    /// Frames handed to outboxes.
    pub delivered: AtomicU64,
    /// Gauge frames that replaced an unsent older one.
    pub coalesced: AtomicU64,
    /// Clients closed for passing the byte cap.
    pub slow_closed: AtomicU64,
}

/// A snapshot of [`HubStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HubCounts {
    /// Clients registered now.
    pub clients: usize,
    /// Registrations ever.
    pub connects: u64,
    /// Removals ever.
    pub disconnects: u64,
    /// Frames handed to outboxes.
    pub delivered: u64,
    /// Gauge frames coalesced.
    pub coalesced: u64,
    /// Clients closed as slow consumers.
    pub slow_closed: u64,
}

struct Entry {
    topic: Topic,
    /// Index in `Shard::topics[topic]`.
    pos: usize,
    outbox: Arc<Outbox>,
}

#[derive(Default)]
struct Shard {
    clients: SlotMap<DefaultKey, Entry>,
    topics: HashMap<Topic, Vec<DefaultKey>>,
}

/// The registry of connected clients.
pub struct Hub {
    shards: Box<[Mutex<Shard>]>,
    next_shard: AtomicUsize,
    event_cap: usize,
    stats: HubStats,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a shard lock leaves the shard consistent (every
    // mutation is one call), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hub {
    /// A hub whose clients may queue up to `event_cap` bytes of events.
    pub fn new(event_cap: usize) -> Arc<Hub> {
        Arc::new(Hub {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            next_shard: AtomicUsize::new(0),
            event_cap,
            stats: HubStats::default(),
        })
    }

    /// Registers a client on `topic`; it leaves when the guard drops.
    pub fn register(self: &Arc<Hub>, topic: Topic) -> Registration {
        let outbox = Arc::new(Outbox::new(self.event_cap));
        let shard = self.next_shard.fetch_add(1, Ordering::Relaxed) % SHARDS;
        let slot = {
            let mut s = lock(&self.shards[shard]);
            let members_len = s.topics.get(&topic).map_or(0, Vec::len);
            let slot = s.clients.insert(Entry {
                topic,
                pos: members_len,
                outbox: outbox.clone(),
            });
            s.topics.entry(topic).or_default().push(slot);
            slot
        };
        self.stats.clients.fetch_add(1, Ordering::Relaxed);
        self.stats.connects.fetch_add(1, Ordering::Relaxed);
        Registration {
            hub: self.clone(),
            key: ClientKey { shard, slot },
            outbox,
        }
    }

    /// Removes a client: O(1), no scan. A key removed before (or whose slot
    /// was reused since) removes nothing and returns false.
    pub fn remove(&self, key: ClientKey) -> bool {
        let Some(shard) = self.shards.get(key.shard) else {
            return false;
        };
        let mut s = lock(shard);
        let Some(entry) = s.clients.remove(key.slot) else {
            return false;
        };
        let mut moved = None;
        if let Some(members) = s.topics.get_mut(&entry.topic) {
            members.swap_remove(entry.pos);
            moved = members.get(entry.pos).copied();
            if members.is_empty() {
                s.topics.remove(&entry.topic);
            }
        }
        if let Some(m) = moved.and_then(|m| s.clients.get_mut(m)) {
            m.pos = entry.pos;
        }
        drop(s);
        entry.outbox.close_quietly();
        self.stats.clients.fetch_sub(1, Ordering::Relaxed);
        self.stats.disconnects.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Hands one encoded frame to every client of `topic` (every client at
    /// all for [`FLEET`]); returns how many took it.
    pub fn publish(&self, topic: Topic, kind: Kind, frame: &Frame) -> usize {
        let mut n = 0;
        for shard in self.shards.iter() {
            let s = lock(shard);
            let mut offer = |e: &Entry| {
                match e.outbox.push(kind, frame.clone()) {
                    Push::Queued => {}
                    Push::Coalesced => {
                        self.stats.coalesced.fetch_add(1, Ordering::Relaxed);
                    }
                    Push::NowSlow => {
                        self.stats.slow_closed.fetch_add(1, Ordering::Relaxed);
                    }
                    Push::Refused => return,
                }
                n += 1;
            };
            if topic == FLEET {
                s.clients.values().for_each(&mut offer);
            } else if let Some(members) = s.topics.get(&topic) {
                for key in members {
                    if let Some(e) = s.clients.get(*key) {
                        offer(e);
                    }
                }
            }
        }
        self.stats.delivered.fetch_add(n as u64, Ordering::Relaxed);
        n
    }

    /// Clients registered now.
    pub fn len(&self) -> usize {
        self.stats.clients.load(Ordering::Relaxed)
    }

    /// Whether no client is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Clients on `topic` now (counted shard by shard).
    pub fn topic_len(&self, topic: Topic) -> usize {
        self.shards
            .iter()
            .map(|s| lock(s).topics.get(&topic).map_or(0, Vec::len))
            .sum()
    }

    /// The counters.
    pub fn counts(&self) -> HubCounts {
        let s = &self.stats;
        HubCounts {
            clients: s.clients.load(Ordering::Relaxed),
            connects: s.connects.load(Ordering::Relaxed),
            disconnects: s.disconnects.load(Ordering::Relaxed),
            delivered: s.delivered.load(Ordering::Relaxed),
            coalesced: s.coalesced.load(Ordering::Relaxed),
            slow_closed: s.slow_closed.load(Ordering::Relaxed),
        }
    }
}

/// A client's place in the hub; dropping it removes the client.
pub struct Registration {
    hub: Arc<Hub>,
    key: ClientKey,
    outbox: Arc<Outbox>,
}

impl Registration {
    /// The client's key.
    pub fn key(&self) -> ClientKey {
        self.key
    }

    /// The client's outbox.
    pub fn outbox(&self) -> &Arc<Outbox> {
        &self.outbox
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.remove(self.key);
    }
}

/// What [`Outbox::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// Queued.
    Queued,
    /// Replaced an unsent frame of the same kind.
    Coalesced,
    /// Passed the byte cap: the client is now closed as slow.
    NowSlow,
    /// Already closed: dropped.
    Refused,
}

#[derive(Default)]
struct Pending {
    tick: Option<Frame>,
    fleet: Option<Frame>,
    events: VecDeque<Frame>,
    event_bytes: usize,
    closed: Option<Closed>,
    /// Removed from the hub: the writer ends without a close code of ours.
    gone: bool,
}

/// The frames waiting for one client, bounded as the module says.
pub struct Outbox {
    pending: Mutex<Pending>,
    ready: Notify,
    event_cap: usize,
}

/// What a writer takes from its outbox at once.
#[derive(Debug, Default)]
pub struct Batch {
    /// Frames to send, oldest kind first (events, then the fleet, then the tick).
    pub frames: Vec<Frame>,
    /// Set when the client must be closed.
    pub closed: Option<Closed>,
    /// Set when the client left the hub.
    pub gone: bool,
}

impl Outbox {
    fn new(event_cap: usize) -> Outbox {
        Outbox {
            pending: Mutex::default(),
            ready: Notify::new(),
            event_cap,
        }
    }

    /// Queues a frame by the rules of its kind.
    pub fn push(&self, kind: Kind, frame: Frame) -> Push {
        let mut p = lock(&self.pending);
        if p.closed.is_some() || p.gone {
            return Push::Refused;
        }
        let result = match kind {
            Kind::Tick => match p.tick.replace(frame) {
                Some(_) => Push::Coalesced,
                None => Push::Queued,
            },
            Kind::Fleet => match p.fleet.replace(frame) {
                Some(_) => Push::Coalesced,
                None => Push::Queued,
            },
            Kind::Event => {
                if p.event_bytes + frame.len() > self.event_cap {
                    p.closed = Some(Closed::SlowConsumer);
                    p.events.clear();
                    p.event_bytes = 0;
                    Push::NowSlow
                } else {
                    p.event_bytes += frame.len();
                    p.events.push_back(frame);
                    Push::Queued
                }
            }
        };
        drop(p);
        self.ready.notify_one();
        result
    }

    /// Frame waiting now (events plus the coalesced gauges).
    pub fn pending_bytes(&self) -> usize {
        let p = lock(&self.pending);
        p.event_bytes
            + p.tick.as_ref().map_or(0, |f| f.len())
            + p.fleet.as_ref().map_or(0, |f| f.len())
    }

    /// Takes everything pending; empty when nothing is.
    pub fn take(&self) -> Batch {
        let mut p = lock(&self.pending);
        let mut frames: Vec<Frame> = p.events.drain(..).collect();
        p.event_bytes = 0;
        frames.extend(p.fleet.take());
        frames.extend(p.tick.take());
        Batch {
            frames,
            closed: p.closed,
            gone: p.gone,
        }
    }

    /// Waits until something is pending (or the outbox closed).
    pub async fn wait(&self) -> Batch {
        loop {
            let notified = self.ready.notified();
            let batch = self.take();
            if !batch.frames.is_empty() || batch.closed.is_some() || batch.gone {
                return batch;
            }
            notified.await;
        }
    }

    fn close_quietly(&self) {
        lock(&self.pending).gone = true;
        self.ready.notify_one();
    }
}

/// The report's registry, kept as the baseline of the bench: a `Vec` of
/// connection records (heap objects, as every connection object is), found
/// by scanning for the connection's id string on disconnect — O(n) compares
/// and an O(n) shift per disconnect.
#[derive(Default)]
pub struct LinearRegistry {
    clients: Mutex<Vec<Arc<LinearClient>>>,
    next: AtomicU64,
}

/// One connection of the baseline registry.
pub struct LinearClient {
    /// Connection id (UUID-shaped text, as connection ids usually are).
    pub id: String,
    /// Its topic.
    pub topic: Topic,
    /// Its outbox.
    pub outbox: Outbox,
}

impl LinearRegistry {
    /// Adds a client, returns its id.
    pub fn register(&self, topic: Topic) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            n.wrapping_mul(0x9e37_79b9) as u32,
            (n >> 3) & 0xffff,
            n & 0xfff,
            (n >> 5) & 0xfff,
            n
        );
        lock(&self.clients).push(Arc::new(LinearClient {
            id: id.clone(),
            topic,
            outbox: Outbox::new(1 << 20),
        }));
        id
    }

    /// Removes a client by scanning for its id.
    pub fn remove(&self, id: &str) -> bool {
        let mut c = lock(&self.clients);
        match c.iter().position(|client| client.id == id) {
            Some(at) => {
                c.remove(at);
                true
            }
            None => false,
        }
    }

    /// Clients registered now.
    pub fn len(&self) -> usize {
        lock(&self.clients).len()
    }

    /// Whether none is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
