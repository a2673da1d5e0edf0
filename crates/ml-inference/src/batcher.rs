//! Micro-batching: concurrent single-row requests for one model are
//! gathered into one run (up to `max_batch` rows or `max_delay`), as Triton's
//! dynamic batcher does; each caller gets its own row back.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ndarray::Array2;

use crate::engine::Engine;
use crate::error::{Error, Result};

/// Micro-batching settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchConfig {
    max_batch: usize,
    max_delay: Duration,
    max_queue: usize,
}

impl Default for BatchConfig {
    /// Up to 32 rows, waiting at most 1 ms for the batch to fill, 1,024 queued requests.
    fn default() -> Self {
        BatchConfig {
            max_batch: 32,
            max_delay: Duration::from_millis(1),
            max_queue: 1024,
        }
    }
}

impl BatchConfig {
    /// Most rows per run (`1..=65536`).
    pub fn max_batch(mut self, n: usize) -> Self {
        self.max_batch = n;
        self
    }

    /// Longest a first request waits for others (`<= 1 s`).
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Requests queued before [`Error::QueueFull`] (`1..=65536`; the queue is allocated up front).
    pub fn max_queue(mut self, n: usize) -> Self {
        self.max_queue = n;
        self
    }
}

type Reply = SyncSender<Result<Vec<f32>>>;

struct Job {
    row: Vec<f32>,
    reply: Reply,
}

/// A micro-batching front end for one model. Dropping it stops its thread
/// after the queued requests are served.
#[derive(Debug)]
pub struct Batcher {
    tx: Option<SyncSender<Job>>,
    model: String,
    capacity: usize,
    worker: Option<JoinHandle<()>>,
}

impl Batcher {
    /// Starts a batcher serving `model` through `engine`.
    pub fn new(engine: Arc<Engine>, model: &str, config: BatchConfig) -> Result<Batcher> {
        let bad = |field, problem: String| Err(Error::InvalidConfig { field, problem });
        if !(1..=65_536).contains(&config.max_batch) {
            return bad(
                "max_batch",
                format!("{} is outside 1..=65536", config.max_batch),
            );
        }
        if config.max_delay > Duration::from_secs(1) {
            return bad(
                "max_delay",
                format!(
                    "{:?} is over 1 s; batching delay adds to every request",
                    config.max_delay
                ),
            );
        }
        if !(1..=1 << 20).contains(&config.max_queue) {
            return bad(
                "max_queue",
                format!("{} is outside 1..=1048576", config.max_queue),
            );
        }
        let (tx, rx) = mpsc::sync_channel::<Job>(config.max_queue);
        let name = model.to_string();
        let worker = std::thread::Builder::new()
            .name(format!("batcher-{model}"))
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    let deadline = Instant::now() + config.max_delay;
                    while jobs.len() < config.max_batch {
                        let left = deadline.saturating_duration_since(Instant::now());
                        match rx.recv_timeout(left) {
                            Ok(j) => jobs.push(j),
                            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                                break;
                            }
                        }
                    }
                    serve(&engine, &name, jobs);
                }
            })
            .map_err(|e| Error::InvalidConfig {
                field: "batcher thread",
                problem: format!("could not start a thread: {e}"),
            })?;
        Ok(Batcher {
            tx: Some(tx),
            model: model.to_string(),
            capacity: config.max_queue,
            worker: Some(worker),
        })
    }

    /// Scores one feature row, batched with concurrent callers; blocks until served.
    pub fn infer(&self, row: Vec<f32>) -> Result<Vec<f32>> {
        let (reply, answer) = mpsc::sync_channel(1);
        let tx = self
            .tx
            .as_ref()
            .ok_or_else(|| Error::Closed(self.model.clone()))?;
        match tx.try_send(Job { row, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(Error::QueueFull {
                    model: self.model.clone(),
                    capacity: self.capacity,
                });
            }
            Err(TrySendError::Disconnected(_)) => return Err(Error::Closed(self.model.clone())),
        }
        answer
            .recv()
            .map_err(|_| Error::Closed(self.model.clone()))?
    }
}

fn serve(engine: &Engine, model: &str, jobs: Vec<Job>) {
    let width = jobs[0].row.len();
    // A row of another width cannot share the batch: it fails alone.
    let (good, bad): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|j| j.row.len() == width);
    for j in bad {
        let _ = j.reply.send(Err(Error::InputShape {
            model: model.to_string(),
            input: "features".into(),
            expected: format!("[{width}] like the rest of the batch"),
            got: vec![j.row.len()],
        }));
    }
    let mut flat = Vec::with_capacity(good.len() * width);
    for j in &good {
        flat.extend_from_slice(&j.row);
    }
    let result = Array2::from_shape_vec((good.len(), width), flat)
        .map_err(|e| Error::Load {
            model: model.to_string(),
            cause: e.to_string(),
        })
        .and_then(|x| engine.infer_batch(model, x.view()));
    match result {
        Ok(out) => {
            for (j, row) in good.iter().zip(out.outer_iter()) {
                let _ = j.reply.send(Ok(row.to_vec()));
            }
        }
        Err(e) => {
            for j in &good {
                let _ = j.reply.send(Err(e.clone()));
            }
        }
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}
