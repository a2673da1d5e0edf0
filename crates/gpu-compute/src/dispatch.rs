//! Batches of kernel dispatches: one compute pass, one parameter buffer,
//! one submit — the launch overhead a chain of kernels pays once.

use std::sync::Arc;

use crate::context::{GpuContext, Kernel, KernelSpec};
use crate::error::Result;

/// Bytes per dispatch in the parameter buffer: the largest
/// `min_uniform_buffer_offset_alignment` wgpu allows.
const PARAM_SLOT: u64 = 256;

struct Item<'a> {
    kernel: Arc<Kernel>,
    offset: u64,
    buffers: Vec<&'a wgpu::Buffer>,
    groups: [u32; 3],
}

/// Dispatches recorded now, encoded into one compute pass on submit.
pub(crate) struct Batch<'a> {
    ctx: &'a GpuContext,
    params: Vec<u32>,
    items: Vec<Item<'a>>,
    clears: Vec<&'a wgpu::Buffer>,
}

impl<'a> Batch<'a> {
    pub(crate) fn new(ctx: &'a GpuContext) -> Self {
        Self {
            ctx,
            params: Vec::new(),
            items: Vec::new(),
            clears: Vec::new(),
        }
    }

    /// Zeroes `buffer` before the pass.
    pub(crate) fn clear(&mut self, buffer: &'a wgpu::Buffer) {
        self.clears.push(buffer);
    }

    /// Records `spec` over `groups` workgroups (laid out by [`GpuContext::grid`])
    /// with `params` as its uniform block and `buffers` as bindings 1….
    pub(crate) fn dispatch(
        &mut self,
        spec: &KernelSpec,
        params: &[u32],
        buffers: &[&'a wgpu::Buffer],
        groups: u32,
    ) -> Result<()> {
        debug_assert_eq!(buffers.len(), spec.slots.len(), "{}", spec.name);
        debug_assert!(params.len() * 4 <= PARAM_SLOT as usize);
        let kernel = self.ctx.kernel(spec)?;
        let offset = self.items.len() as u64 * PARAM_SLOT;
        self.params.extend_from_slice(params);
        self.params.resize((offset + PARAM_SLOT) as usize / 4, 0);
        self.items.push(Item {
            kernel,
            offset,
            buffers: buffers.to_vec(),
            groups: GpuContext::grid(groups),
        });
        Ok(())
    }

    /// Records `spec` over an explicit 3-D grid of workgroups.
    pub(crate) fn dispatch_grid(
        &mut self,
        spec: &KernelSpec,
        params: &[u32],
        buffers: &[&'a wgpu::Buffer],
        groups: [u32; 3],
    ) -> Result<()> {
        self.dispatch(spec, params, buffers, 1)?;
        if let Some(item) = self.items.last_mut() {
            item.groups = groups;
        }
        Ok(())
    }

    /// Encodes and submits; returns the submission to wait for.
    pub(crate) fn submit(self) -> Result<wgpu::SubmissionIndex> {
        let ctx = self.ctx;
        let (submission, timing) = self.encode()?;
        if let Some(timing) = timing {
            *crate::context::lock(&ctx.inner.last_timing) = Some(timing);
        }
        Ok(submission)
    }

    fn encode(self) -> Result<(wgpu::SubmissionIndex, Option<crate::pool::PooledBuffer>)> {
        let ctx = self.ctx;
        let inner = &ctx.inner;
        ctx.check()?;
        let params = inner.pool.get(
            &inner.device,
            (self.params.len() as u64 * 4).max(PARAM_SLOT),
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            "kernel parameters",
        )?;
        if !self.params.is_empty() {
            inner
                .queue
                .write_buffer(params.buffer(), 0, bytemuck::cast_slice(&self.params));
        }
        let groups: Vec<wgpu::BindGroup> = self
            .items
            .iter()
            .map(|item| {
                let mut entries = vec![wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: params.buffer(),
                        offset: item.offset,
                        size: wgpu::BufferSize::new(PARAM_SLOT),
                    }),
                }];
                for (i, buffer) in item.buffers.iter().enumerate() {
                    entries.push(wgpu::BindGroupEntry {
                        binding: i as u32 + 1,
                        resource: buffer.as_entire_binding(),
                    });
                }
                inner.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: None,
                    layout: &item.kernel.layout,
                    entries: &entries,
                })
            })
            .collect();
        let query = inner.summary.timestamps.then(|| {
            inner.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("pass time"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            })
        });
        let mut encoder = inner
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("kernels"),
            });
        for buffer in &self.clears {
            encoder.clear_buffer(buffer, 0, None);
        }
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("kernels"),
                timestamp_writes: query.as_ref().map(|q| wgpu::ComputePassTimestampWrites {
                    query_set: q,
                    beginning_of_pass_write_index: Some(0),
                    end_of_pass_write_index: Some(1),
                }),
            });
            for (item, group) in self.items.iter().zip(&groups) {
                pass.set_pipeline(&item.kernel.pipeline);
                pass.set_bind_group(0, group, &[]);
                pass.dispatch_workgroups(item.groups[0], item.groups[1], item.groups[2]);
            }
        }
        let resolve = match &query {
            Some(q) => {
                let resolve = inner.pool.get(
                    &inner.device,
                    16,
                    wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                    "timestamps",
                )?;
                encoder.resolve_query_set(q, 0..2, resolve.buffer(), 0);
                Some(resolve)
            }
            None => None,
        };
        let submission = inner.queue.submit([encoder.finish()]);
        ctx.check()?;
        Ok((submission, resolve))
    }
}
