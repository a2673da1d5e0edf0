//! Host ↔ device copies: reused staging buffers, chunked under the device's
//! buffer limits, with a deadline on every wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc;

use crate::context::{GpuContext, lock};
use crate::error::{Error, Result};

/// Uploads up to this size go through `Queue::write_buffer` (wgpu's own
/// staging); larger ones through the belt.
const SMALL_UPLOAD: usize = 64 << 10;
/// The size of one staging chunk, both directions.
pub(crate) const CHUNK: u64 = 8 << 20;
/// Upload staging buffers kept; more chunks in flight wait for the oldest.
const MAX_SLOTS: usize = 4;

const PENDING: u8 = 0;
const READY: u8 = 1;
const FAILED: u8 = 2;

#[derive(Debug)]
struct Slot {
    buffer: wgpu::Buffer,
    state: Arc<AtomicU8>,
    submission: Option<wgpu::SubmissionIndex>,
}

/// Upload staging buffers that stay mapped while idle: a chunk is one
/// `memcpy` into mapped memory plus one copy command.
#[derive(Debug, Default)]
pub(crate) struct UploadBelt {
    slots: Vec<Slot>,
}

impl GpuContext {
    /// Copies `bytes` into `dst` from offset 0.
    pub(crate) fn upload_bytes(&self, dst: &wgpu::Buffer, bytes: &[u8]) -> Result<()> {
        self.check()?;
        if bytes.len() <= SMALL_UPLOAD {
            self.inner.queue.write_buffer(dst, 0, bytes);
            return Ok(());
        }
        let mut belt = lock(&self.inner.belt);
        for (i, chunk) in bytes.chunks(CHUNK as usize).enumerate() {
            let slot_idx = self.acquire_slot(&mut belt)?;
            let slot = &mut belt.slots[slot_idx];
            let len = chunk.len() as u64;
            {
                let mut view = slot
                    .buffer
                    .slice(..len)
                    .get_mapped_range_mut()
                    .map_err(|e| Error::Backend {
                        message: e.to_string(),
                    })?;
                view.copy_from_slice(chunk);
            }
            slot.buffer.unmap();
            let mut encoder =
                self.inner
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("upload"),
                    });
            encoder.copy_buffer_to_buffer(&slot.buffer, 0, dst, i as u64 * CHUNK, len);
            let submission = self.inner.queue.submit([encoder.finish()]);
            slot.state.store(PENDING, Ordering::Release);
            let state = Arc::clone(&slot.state);
            slot.buffer.map_async(wgpu::MapMode::Write, .., move |r| {
                state.store(if r.is_ok() { READY } else { FAILED }, Ordering::Release);
            });
            slot.submission = Some(submission);
        }
        self.check()
    }

    fn acquire_slot(&self, belt: &mut UploadBelt) -> Result<usize> {
        // Each round either finds a ready slot, creates one, or waits for a
        // submission to finish: at most MAX_SLOTS + 2 rounds.
        for _ in 0..MAX_SLOTS + 2 {
            belt.slots
                .retain(|s| s.state.load(Ordering::Acquire) != FAILED);
            if let Some(i) = belt
                .slots
                .iter()
                .position(|s| s.state.load(Ordering::Acquire) == READY)
            {
                return Ok(i);
            }
            if belt.slots.len() < MAX_SLOTS {
                let buffer = self.inner.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("upload staging"),
                    size: CHUNK.min(self.inner.summary.max_buffer_bytes),
                    usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: true,
                });
                self.inner.pool.note_created();
                belt.slots.push(Slot {
                    buffer,
                    state: Arc::new(AtomicU8::new(READY)),
                    submission: None,
                });
                return Ok(belt.slots.len() - 1);
            }
            // All slots are in flight: wait for the oldest one's copy.
            if let Some(submission) = belt.slots.iter_mut().find_map(|s| s.submission.take()) {
                self.wait(submission, "an upload")?;
            } else {
                self.wait_idle("an upload")?;
            }
        }
        Err(Error::Backend {
            message: "no upload staging buffer became writable".into(),
        })
    }

    /// The result of a `map_async` whose submission has finished. Another
    /// thread's poll may be the one that runs the callback, so keep polling
    /// until it arrives or the deadline passes.
    fn await_map(&self, rx: &mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>) -> Result<()> {
        let started = std::time::Instant::now();
        loop {
            match rx.recv_timeout(std::time::Duration::from_micros(200)) {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) => {
                    self.check()?;
                    return Err(Error::Backend {
                        message: e.to_string(),
                    });
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.check()?;
                    return Err(Error::Backend {
                        message: "a buffer mapping was dropped before it completed".into(),
                    });
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let waited = started.elapsed();
                    if waited > self.inner.wait_timeout {
                        return Err(Error::Timeout {
                            what: "a buffer mapping",
                            waited,
                        });
                    }
                    let _ = self.inner.device.poll(wgpu::PollType::Poll);
                    self.check()?;
                }
            }
        }
    }

    /// Waits until the queue is empty (map callbacks included).
    pub(crate) fn wait_idle(&self, what: &'static str) -> Result<()> {
        let submission = self.inner.queue.submit([]);
        self.wait(submission, what)
    }

    /// Copies `len` bytes of `src` from `offset` to the host.
    pub(crate) fn download_bytes(
        &self,
        src: &wgpu::Buffer,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>> {
        self.check()?;
        let mut out = Vec::with_capacity(len as usize);
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(CHUNK);
            let staging = self.inner.pool.get(
                &self.inner.device,
                n,
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                "download staging",
            )?;
            let mut encoder =
                self.inner
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("download"),
                    });
            encoder.copy_buffer_to_buffer(src, offset + done, staging.buffer(), 0, n);
            let submission = self.inner.queue.submit([encoder.finish()]);
            let (tx, rx) = mpsc::channel();
            staging
                .buffer()
                .slice(..n)
                .map_async(wgpu::MapMode::Read, move |r| {
                    let _ = tx.send(r);
                });
            if let Err(e) = self.wait(submission, "a download") {
                // The mapping may still complete later: never recycle it.
                staging.discard();
                return Err(e);
            }
            match self.await_map(&rx) {
                Ok(()) => {}
                Err(e) => {
                    staging.discard();
                    return Err(e);
                }
            }
            {
                let view = staging
                    .buffer()
                    .slice(..n)
                    .get_mapped_range()
                    .map_err(|e| Error::Backend {
                        message: e.to_string(),
                    })?;
                out.extend_from_slice(&view);
            }
            staging.buffer().unmap();
            done += n;
        }
        Ok(out)
    }

    /// Copies the f32 elements at `indices` of `src` to the host, in one
    /// copy command per element and one readback.
    pub(crate) fn download_elements(
        &self,
        src: &wgpu::Buffer,
        indices: &[usize],
    ) -> Result<Vec<f32>> {
        self.check()?;
        let bytes = indices.len() as u64 * 4;
        let gather = self.inner.pool.get(
            &self.inner.device,
            bytes,
            crate::tensor::TENSOR_USAGE,
            "gathered elements",
        )?;
        let mut encoder =
            self.inner
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("gather"),
                });
        for (slot, &index) in indices.iter().enumerate() {
            encoder.copy_buffer_to_buffer(
                src,
                index as u64 * 4,
                gather.buffer(),
                slot as u64 * 4,
                4,
            );
        }
        self.inner.queue.submit([encoder.finish()]);
        let values = self.download_bytes(gather.buffer(), 0, bytes)?;
        Ok(bytemuck::pod_collect_to_vec(&values))
    }
}
