//! [`GpuTensor`]: f32 data that lives on the device, so chained kernels
//! never round-trip through the host.

use std::sync::Arc;

use crate::context::GpuContext;
use crate::error::{Error, Result};
use crate::pool::PooledBuffer;

/// A row-major f32 matrix (or vector: one row) in device memory.
///
/// Created by [`GpuContext::upload`] or as a kernel's output; read back with
/// [`to_vec`](Self::to_vec). Cloning shares the buffer. Its buffer goes back
/// to the context's pool when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct GpuTensor {
    pub(crate) buffer: Arc<PooledBuffer>,
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) ctx: GpuContext,
}

/// Storage usage of every tensor buffer: bound by kernels, copied both ways.
pub(crate) const TENSOR_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

impl GpuTensor {
    /// Elements.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    /// Always false: tensors hold at least one element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `(rows, cols)`; a vector is one row.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Copies the tensor to the host.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], [`Error::DeviceLost`] or [`Error::Backend`].
    pub fn to_vec(&self) -> Result<Vec<f32>> {
        let bytes = self
            .ctx
            .download_bytes(self.buffer.buffer(), 0, self.len() as u64 * 4)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// Copies elements `start..end` to the host.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when the range is not inside the tensor;
    /// otherwise as [`to_vec`](Self::to_vec).
    pub fn slice_to_vec(&self, start: usize, end: usize) -> Result<Vec<f32>> {
        if start >= end || end > self.len() {
            return Err(Error::InvalidArgument {
                what: "range",
                problem: format!(
                    "{start}..{end} is empty or outside the tensor of {} elements",
                    self.len()
                ),
            });
        }
        let bytes = self.ctx.download_bytes(
            self.buffer.buffer(),
            start as u64 * 4,
            (end - start) as u64 * 4,
        )?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// The same data viewed as `rows × cols`.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] when `rows × cols` is not the element count.
    pub fn reshape(&self, rows: usize, cols: usize) -> Result<Self> {
        if rows.checked_mul(cols) != Some(self.len()) {
            return Err(Error::Shape {
                what: "reshape",
                detail: format!("{rows} × {cols} does not hold {} elements", self.len()),
            });
        }
        Ok(Self {
            rows,
            cols,
            ..self.clone()
        })
    }

    pub(crate) fn raw(&self) -> &wgpu::Buffer {
        self.buffer.buffer()
    }
}

impl GpuContext {
    /// Bytes one binding may hold (and so the largest tensor).
    pub fn max_tensor_bytes(&self) -> u64 {
        self.inner.max_binding
    }

    /// A tensor of `rows × cols` elements with undefined contents, from the pool.
    pub(crate) fn alloc(&self, rows: usize, cols: usize, what: &'static str) -> Result<GpuTensor> {
        let bytes = self.check_size(rows, cols, 4, what)?;
        let buffer = self
            .inner
            .pool
            .get(&self.inner.device, bytes, TENSOR_USAGE, what)?;
        Ok(GpuTensor {
            buffer: Arc::new(buffer),
            rows,
            cols,
            ctx: self.clone(),
        })
    }

    /// `rows × cols × elem` in bytes, or why that cannot be one binding.
    pub(crate) fn check_size(
        &self,
        rows: usize,
        cols: usize,
        elem: u64,
        what: &'static str,
    ) -> Result<u64> {
        let n = rows.checked_mul(cols).ok_or(Error::TooLarge {
            what,
            requested: u64::MAX,
            limit: self.inner.max_binding,
            which: "the device's storage binding size",
        })?;
        if n == 0 {
            return Err(Error::Empty(what));
        }
        let bytes = (n as u64).saturating_mul(elem);
        if bytes > self.inner.max_binding {
            return Err(Error::TooLarge {
                what,
                requested: bytes,
                limit: self.inner.max_binding,
                which: "the device's storage binding size",
            });
        }
        Ok(bytes)
    }

    /// Uploads a vector (one row).
    ///
    /// # Errors
    ///
    /// [`Error::Empty`] for no data, [`Error::TooLarge`] past
    /// [`max_tensor_bytes`](Self::max_tensor_bytes) or the pool's cap.
    pub fn upload(&self, data: &[f32]) -> Result<GpuTensor> {
        self.upload_matrix(data, 1, data.len())
    }

    /// Uploads a row-major `rows × cols` matrix.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] when `data` does not hold `rows × cols` elements;
    /// otherwise as [`upload`](Self::upload).
    pub fn upload_matrix(&self, data: &[f32], rows: usize, cols: usize) -> Result<GpuTensor> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(Error::Shape {
                what: "upload",
                detail: format!(
                    "{} elements do not form a {rows} × {cols} matrix",
                    data.len()
                ),
            });
        }
        let tensor = self.alloc(rows, cols, "tensor")?;
        self.upload_bytes(tensor.raw(), bytemuck::cast_slice(data))?;
        Ok(tensor)
    }

    pub(crate) fn same_context(&self, tensor: &GpuTensor) -> Result<()> {
        if tensor.ctx.inner.id == self.inner.id {
            Ok(())
        } else {
            Err(Error::ForeignTensor)
        }
    }
}
