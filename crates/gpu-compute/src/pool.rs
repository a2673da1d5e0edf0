//! The buffer pool: device buffers recycled by size class and usage, with a
//! byte cap on everything it holds and [`GpuContext::trim`](crate::GpuContext::trim).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::{Error, Result};

/// The smallest class: small buffers share it, so parameter blocks and
/// partial sums never create buffers of their own after warm-up.
const MIN_CLASS: u64 = 256;

/// Counters of the pool, for tests and dashboards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// `wgpu::Buffer`s created since the context started (pool misses,
    /// staging buffers included).
    pub buffers_created: u64,
    /// Requests served from an idle buffer.
    pub buffers_reused: u64,
    /// Buffers destroyed (by the idle cap, the byte cap or `trim`).
    pub buffers_destroyed: u64,
    /// Bytes in buffers that are handed out now.
    pub live_bytes: u64,
    /// Bytes in idle buffers kept for reuse.
    pub idle_bytes: u64,
}

/// The size class a request of `bytes` is served from: powers of two split
/// in four steps (so at most 25 % is wasted above 1 KiB), never above
/// `max_buffer`, always a multiple of 256.
pub(crate) fn size_class(bytes: u64, max_buffer: u64) -> u64 {
    let bytes = bytes.max(MIN_CLASS);
    let pow = bytes.next_power_of_two();
    let quarter = (pow / 8).max(1);
    let mut class = pow / 2;
    while class < bytes {
        class += quarter;
    }
    let class = class.div_ceil(MIN_CLASS) * MIN_CLASS;
    if class > max_buffer {
        bytes.div_ceil(4) * 4
    } else {
        class
    }
}

#[derive(Debug)]
struct Inner {
    free: HashMap<(u64, u32), Vec<wgpu::Buffer>>,
    stats: PoolStats,
    byte_cap: u64,
    idle_cap: u64,
}

/// Recycles device buffers; shared by a context and every buffer it handed out.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    inner: Arc<Mutex<Inner>>,
    max_buffer: u64,
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    // The pool's state is a cache plus counters: a panic elsewhere while it
    // was held leaves nothing half-updated that matters.
    inner.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pool {
    pub(crate) fn new(byte_cap: u64, idle_cap: u64, max_buffer: u64) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                free: HashMap::new(),
                stats: PoolStats::default(),
                byte_cap,
                idle_cap,
            })),
            max_buffer,
        }
    }

    pub(crate) fn stats(&self) -> PoolStats {
        lock(&self.inner).stats
    }

    /// A buffer of at least `bytes` with exactly `usage`.
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        bytes: u64,
        usage: wgpu::BufferUsages,
        what: &'static str,
    ) -> Result<PooledBuffer> {
        if bytes > self.max_buffer {
            return Err(Error::TooLarge {
                what,
                requested: bytes,
                limit: self.max_buffer,
                which: "the device's max_buffer_size",
            });
        }
        let class = size_class(bytes, self.max_buffer);
        let key = (class, usage.bits());
        let mut inner = lock(&self.inner);
        if let Some(buffer) = inner.free.get_mut(&key).and_then(Vec::pop) {
            inner.stats.idle_bytes -= class;
            inner.stats.live_bytes += class;
            inner.stats.buffers_reused += 1;
            return Ok(self.wrap(buffer, key));
        }
        // Make room under the byte cap from idle buffers of other classes first.
        if inner.stats.live_bytes + inner.stats.idle_bytes + class > inner.byte_cap {
            Self::drop_idle(&mut inner, u64::MAX);
        }
        let held = inner.stats.live_bytes + inner.stats.idle_bytes;
        if held + class > inner.byte_cap {
            return Err(Error::TooLarge {
                what,
                requested: class,
                limit: inner.byte_cap.saturating_sub(held),
                which: "the pool's byte cap (ContextConfig::pool_byte_cap) less the bytes in use",
            });
        }
        inner.stats.buffers_created += 1;
        inner.stats.live_bytes += class;
        drop(inner);
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(what),
            size: class,
            usage,
            mapped_at_creation: false,
        });
        Ok(self.wrap(buffer, key))
    }

    fn wrap(&self, buffer: wgpu::Buffer, key: (u64, u32)) -> PooledBuffer {
        PooledBuffer {
            buffer: Some(buffer),
            key,
            pool: self.clone(),
        }
    }

    /// Counts a buffer the context created outside the pool (upload staging).
    pub(crate) fn note_created(&self) {
        lock(&self.inner).stats.buffers_created += 1;
    }

    fn give_back(&self, buffer: wgpu::Buffer, key: (u64, u32)) {
        let mut inner = lock(&self.inner);
        inner.stats.live_bytes -= key.0;
        if inner.stats.idle_bytes + key.0 > inner.idle_cap {
            inner.stats.buffers_destroyed += 1;
            drop(inner);
            buffer.destroy();
            return;
        }
        inner.stats.idle_bytes += key.0;
        inner.free.entry(key).or_default().push(buffer);
    }

    fn drop_idle(inner: &mut Inner, mut bytes: u64) {
        let keys: Vec<_> = inner.free.keys().copied().collect();
        for key in keys {
            let Some(list) = inner.free.get_mut(&key) else {
                continue;
            };
            while bytes > 0 {
                let Some(buffer) = list.pop() else { break };
                buffer.destroy();
                inner.stats.idle_bytes -= key.0;
                inner.stats.buffers_destroyed += 1;
                bytes = bytes.saturating_sub(key.0);
            }
        }
        inner.free.retain(|_, list| !list.is_empty());
    }

    /// Destroys every idle buffer; returns the bytes freed.
    pub(crate) fn trim(&self) -> u64 {
        let mut inner = lock(&self.inner);
        let before = inner.stats.idle_bytes;
        Self::drop_idle(&mut inner, u64::MAX);
        before - inner.stats.idle_bytes
    }
}

/// A buffer on loan from the pool; returned to it on drop.
#[derive(Debug)]
pub(crate) struct PooledBuffer {
    buffer: Option<wgpu::Buffer>,
    key: (u64, u32),
    pool: Pool,
}

impl PooledBuffer {
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        // Only `Drop` takes the buffer out.
        self.buffer
            .as_ref()
            .expect("a pooled buffer holds its buffer until dropped")
    }

    /// Destroys the buffer instead of recycling it (a readback that timed
    /// out leaves its staging buffer with a mapping pending).
    pub(crate) fn discard(mut self) {
        if let Some(buffer) = self.buffer.take() {
            let mut inner = lock(&self.pool.inner);
            inner.stats.live_bytes -= self.key.0;
            inner.stats.buffers_destroyed += 1;
            drop(inner);
            buffer.destroy();
        }
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            self.pool.give_back(buffer, self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_cover_the_request_and_waste_at_most_a_quarter_above_one_kib() {
        for bytes in [
            1u64,
            4,
            255,
            256,
            257,
            1000,
            1024,
            1025,
            4097,
            1 << 20,
            (1 << 20) + 1,
            3 << 27,
        ] {
            let class = size_class(bytes, 1 << 31);
            assert!(
                class >= bytes && class.is_multiple_of(256),
                "{bytes} -> {class}"
            );
            if bytes > 1024 {
                assert!(
                    class as f64 <= bytes as f64 * 1.25 + 256.0,
                    "{bytes} -> {class}"
                );
            }
        }
        // Above the device's largest buffer the request is served exactly.
        assert_eq!(size_class(1000, 512), 1000);
    }
}
