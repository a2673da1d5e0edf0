//! [`GpuContext`]: adapter selection, the device with the limits it offers,
//! waits with deadlines, device loss and backend errors as [`Error`]s.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::pool::{Pool, PoolStats};
use crate::transfer::UploadBelt;

/// Which adapters a context may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdapterPolicy {
    /// Hardware GPUs only (discrete first, then integrated, then virtual).
    Hardware,
    /// Hardware first; a software rasterizer (Mesa's lavapipe, WARP) when
    /// there is no hardware. What tests use on machines without a GPU.
    AllowSoftware,
    /// No adapter: [`GpuContext::new`] returns [`Error::NoAdapter`] and an
    /// [`Executor`](crate::Executor) runs everything on the CPU.
    Disabled,
}

impl AdapterPolicy {
    /// The policy the `NOVACRON_GPU` environment variable names:
    /// unset or `hardware` → [`Hardware`](Self::Hardware), `software` →
    /// [`AllowSoftware`](Self::AllowSoftware), `off` → [`Disabled`](Self::Disabled).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for any other value.
    pub fn from_env() -> Result<Self> {
        match std::env::var("NOVACRON_GPU") {
            Err(_) => Ok(Self::Hardware),
            Ok(value) => match value.as_str() {
                "" | "hardware" => Ok(Self::Hardware),
                "software" => Ok(Self::AllowSoftware),
                "off" => Ok(Self::Disabled),
                other => Err(Error::InvalidArgument {
                    what: "NOVACRON_GPU",
                    problem: format!("{other:?} is not one of hardware, software, off"),
                }),
            },
        }
    }
}

/// Configuration of a [`GpuContext`]; every field has a default, set the
/// ones you need with the chained setters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ContextConfig {
    pub(crate) adapter: Option<AdapterPolicy>,
    pub(crate) wait_timeout: Duration,
    pub(crate) pool_byte_cap: u64,
    pub(crate) pool_idle_cap: u64,
    pub(crate) subgroups: bool,
    pub(crate) kernel_timing: bool,
}

impl Default for ContextConfig {
    fn default() -> Self {
        Self {
            adapter: None,
            wait_timeout: Duration::from_secs(30),
            pool_byte_cap: 8 << 30,
            pool_idle_cap: 512 << 20,
            subgroups: true,
            kernel_timing: true,
        }
    }
}

impl ContextConfig {
    /// Which adapters may be used. Default: [`AdapterPolicy::from_env`]
    /// (hardware only unless `NOVACRON_GPU` says otherwise).
    #[must_use]
    pub fn adapter(mut self, policy: AdapterPolicy) -> Self {
        self.adapter = Some(policy);
        self
    }

    /// The longest any wait for the GPU may last before it is
    /// [`Error::Timeout`]. Default 30 s: a lost or hung driver is reported
    /// instead of hanging the caller.
    #[must_use]
    pub fn wait_timeout(mut self, timeout: Duration) -> Self {
        self.wait_timeout = timeout;
        self
    }

    /// The most bytes of device buffers the pool may hold, live and idle
    /// together. Default 8 GiB; past it an allocation is [`Error::TooLarge`].
    #[must_use]
    pub fn pool_byte_cap(mut self, bytes: u64) -> Self {
        self.pool_byte_cap = bytes;
        self
    }

    /// The most bytes of idle buffers kept for reuse; buffers returned past
    /// it are destroyed. Default 512 MiB.
    #[must_use]
    pub fn pool_idle_cap(mut self, bytes: u64) -> Self {
        self.pool_idle_cap = bytes;
        self
    }

    /// Record GPU timestamps around every batch of kernels where the
    /// adapter supports them, for [`GpuContext::last_kernel_time`]. Default
    /// true (two timestamps and a 16-byte resolve per batch).
    #[must_use]
    pub fn kernel_timing(mut self, enabled: bool) -> Self {
        self.kernel_timing = enabled;
        self
    }

    /// Use subgroup operations in reductions when the adapter has them.
    /// Default true; false keeps the shared-memory tree everywhere.
    #[must_use]
    pub fn subgroups(mut self, enabled: bool) -> Self {
        self.subgroups = enabled;
        self
    }
}

/// What the chosen adapter is and can do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdapterSummary {
    /// The adapter's name (`"llvmpipe (LLVM 15.0.6, 256 bits)"`, `"NVIDIA H200"`).
    pub name: String,
    /// The graphics API it runs on (`"Vulkan"`, `"Metal"`, ...).
    pub backend: String,
    /// The driver's name and version.
    pub driver: String,
    /// A CPU (software) adapter: correct, but rarely faster than the CPU path.
    pub is_software: bool,
    /// Subgroup sizes the adapter may use, smallest and largest.
    pub subgroup_sizes: (u32, u32),
    /// Subgroup operations are used by the reductions.
    pub subgroups: bool,
    /// Kernel times come from GPU timestamp queries.
    pub timestamps: bool,
    /// The largest storage binding, in bytes.
    pub max_binding_bytes: u64,
    /// The largest buffer, in bytes.
    pub max_buffer_bytes: u64,
    /// Workgroup shared memory, in bytes.
    pub workgroup_storage_bytes: u32,
}

/// A compiled kernel: one entry point of one WGSL module and its layout.
#[derive(Debug)]
pub(crate) struct Kernel {
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) layout: wgpu::BindGroupLayout,
}

/// How a kernel binds a buffer; binding 0 is always the parameter block.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Slot {
    Read,
    ReadWrite,
}

/// A kernel's description: WGSL source, entry point, storage bindings 1…n.
#[derive(Debug)]
pub(crate) struct KernelSpec {
    pub(crate) name: &'static str,
    pub(crate) source: &'static str,
    pub(crate) entry: &'static str,
    pub(crate) slots: &'static [Slot],
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) struct Inner {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) summary: AdapterSummary,
    pub(crate) pool: Pool,
    pub(crate) belt: Mutex<UploadBelt>,
    pub(crate) wait_timeout: Duration,
    pub(crate) id: u64,
    kernels: Mutex<HashMap<&'static str, Arc<Kernel>>>,
    lost: Arc<Mutex<Option<String>>>,
    backend_error: Arc<Mutex<Option<String>>>,
    timestamp_period_ns: f32,
    pub(crate) last_timing: Mutex<Option<crate::pool::PooledBuffer>>,
    // The adapter's max_storage_buffer_binding_size, capped at i32::MAX as
    // wgpu does on Vulkan and DX12.
    pub(crate) max_binding: u64,
}

/// A GPU device ready for compute: cheap to clone (shared), `Send + Sync`.
///
/// Everything a context hands out — [`GpuTensor`](crate::GpuTensor)s,
/// pooled buffers, compiled kernels — belongs to it; the device stays alive
/// while any of them does.
#[derive(Clone)]
pub struct GpuContext {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.inner.summary)
            .field("pool", &self.inner.pool.stats())
            .finish_non_exhaustive()
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every mutex here guards a cache or a latch that is consistent between
    // statements; a panic elsewhere does not poison the data.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let kind = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    // Native compute APIs before GL, whose compute path is slower and older.
    let backend = u8::from(info.backend == wgpu::Backend::Gl);
    (kind, backend)
}

impl GpuContext {
    /// Picks an adapter by `config`'s policy and creates a device with the
    /// largest limits the adapter offers.
    ///
    /// # Errors
    ///
    /// [`Error::NoAdapter`] when no adapter is allowed and present (the
    /// message lists what was found), [`Error::DeviceCreation`] when the
    /// adapter refuses, [`Error::InvalidArgument`] for a bad `NOVACRON_GPU`.
    pub fn new(config: ContextConfig) -> Result<Self> {
        let policy = match config.adapter {
            Some(policy) => policy,
            None => AdapterPolicy::from_env()?,
        };
        if policy == AdapterPolicy::Disabled {
            return Err(Error::NoAdapter {
                detail: "the adapter policy is Disabled".into(),
            });
        }
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle().with_env());
        let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let found: Vec<String> = adapters
            .iter()
            .map(|a| {
                let info = a.get_info();
                format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type)
            })
            .collect();
        let adapter = adapters
            .into_iter()
            .filter(|a| {
                policy == AdapterPolicy::AllowSoftware
                    || a.get_info().device_type != wgpu::DeviceType::Cpu
            })
            .min_by_key(|a| rank(&a.get_info()))
            .ok_or_else(|| Error::NoAdapter {
                detail: if found.is_empty() {
                    "no adapter was found on any backend".into()
                } else {
                    format!("only software adapters were found: {}", found.join(", "))
                },
            })?;
        Self::with_adapter(adapter, &config)
    }

    fn with_adapter(adapter: wgpu::Adapter, config: &ContextConfig) -> Result<Self> {
        let info = adapter.get_info();
        let offered = adapter.features();
        let mut features = wgpu::Features::empty();
        let subgroups = config.subgroups
            && offered.contains(wgpu::Features::SUBGROUP)
            && info.subgroup_min_size >= 4
            && info.subgroup_max_size <= 128;
        if subgroups {
            features |= wgpu::Features::SUBGROUP;
        }
        let timestamps = config.kernel_timing && offered.contains(wgpu::Features::TIMESTAMP_QUERY);
        if timestamps {
            features |= wgpu::Features::TIMESTAMP_QUERY;
        }
        // The defaults are 128 MiB per binding and 16 KiB of workgroup
        // memory; ask for everything the adapter offers.
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("novacron-gpu-compute"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| Error::DeviceCreation {
            adapter: info.name.clone(),
            cause: e.to_string(),
        })?;
        let lost = Arc::new(Mutex::new(None));
        let lost_latch = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            *lock(&lost_latch) = Some(format!("{reason:?}: {message}"));
        });
        let backend_error = Arc::new(Mutex::new(None));
        let error_latch = Arc::clone(&backend_error);
        // wgpu's default handler panics; keep the first error for the caller.
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            lock(&error_latch).get_or_insert_with(|| error.to_string());
        }));
        let max_binding = limits
            .max_storage_buffer_binding_size
            .min(i32::MAX as u64)
            .min(limits.max_buffer_size);
        let max_buffer = limits.max_buffer_size;
        let summary = AdapterSummary {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_string(),
            is_software: info.device_type == wgpu::DeviceType::Cpu,
            subgroup_sizes: (info.subgroup_min_size, info.subgroup_max_size),
            subgroups,
            timestamps,
            max_binding_bytes: max_binding,
            max_buffer_bytes: max_buffer,
            workgroup_storage_bytes: limits.max_compute_workgroup_storage_size,
        };
        let pool = Pool::new(config.pool_byte_cap, config.pool_idle_cap, max_buffer);
        let timestamp_period_ns = queue.get_timestamp_period();
        Ok(Self {
            inner: Arc::new(Inner {
                device,
                queue,
                summary,
                belt: Mutex::new(UploadBelt::default()),
                pool,
                wait_timeout: config.wait_timeout,
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                kernels: Mutex::new(HashMap::new()),
                lost,
                backend_error,
                timestamp_period_ns,
                last_timing: Mutex::new(None),
                max_binding,
            }),
        })
    }

    /// What the adapter is and which optional paths are in use.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.inner.summary
    }

    /// The pool's counters.
    pub fn pool_stats(&self) -> PoolStats {
        self.inner.pool.stats()
    }

    /// Destroys every idle pooled buffer; returns the bytes freed.
    pub fn trim(&self) -> u64 {
        self.inner.pool.trim()
    }

    /// Destroys the device now (shutdown, or a test of device loss): every
    /// later call on this context returns [`Error::DeviceLost`].
    pub fn destroy(&self) {
        self.inner.device.destroy();
        // The callback runs on the next poll; latch it now so no call races it.
        lock(&self.inner.lost).get_or_insert_with(|| "Destroyed: GpuContext::destroy".into());
    }

    /// `Err` when the device is gone or the backend reported an error.
    pub(crate) fn check(&self) -> Result<()> {
        if let Some(reason) = lock(&self.inner.lost).clone() {
            return Err(Error::DeviceLost { reason });
        }
        if let Some(message) = lock(&self.inner.backend_error).take() {
            return Err(Error::Backend { message });
        }
        Ok(())
    }

    /// The kernel `spec` describes, compiled on first use.
    pub(crate) fn kernel(&self, spec: &KernelSpec) -> Result<Arc<Kernel>> {
        if let Some(kernel) = lock(&self.inner.kernels).get(spec.name) {
            return Ok(Arc::clone(kernel));
        }
        let device = &self.inner.device;
        let mut entries = vec![wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        }];
        for (i, slot) in spec.slots.iter().enumerate() {
            entries.push(wgpu::BindGroupLayoutEntry {
                binding: i as u32 + 1,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage {
                        read_only: matches!(slot, Slot::Read),
                    },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            });
        }
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(spec.name),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(spec.name),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(spec.name),
            source: wgpu::ShaderSource::Wgsl(spec.source.into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(spec.name),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(spec.entry),
            compilation_options: Default::default(),
            cache: None,
        });
        self.check()?;
        let kernel = Arc::new(Kernel { pipeline, layout });
        lock(&self.inner.kernels).insert(spec.name, Arc::clone(&kernel));
        Ok(kernel)
    }

    /// Waits for `submission` with the context's deadline.
    pub(crate) fn wait(&self, submission: wgpu::SubmissionIndex, what: &'static str) -> Result<()> {
        let started = Instant::now();
        let outcome = self.inner.device.poll(wgpu::PollType::Wait {
            submission_index: Some(submission),
            timeout: Some(self.inner.wait_timeout),
        });
        self.check()?;
        match outcome {
            Ok(_) => Ok(()),
            Err(wgpu::PollError::Timeout) => Err(Error::Timeout {
                what,
                waited: started.elapsed(),
            }),
            Err(e) => Err(Error::Backend {
                message: e.to_string(),
            }),
        }
    }

    /// GPU time of the most recent batch of kernels submitted on this
    /// context (from any thread), from timestamp queries; `None` when the
    /// adapter has none or timing is off. Waits for that batch.
    ///
    /// # Errors
    ///
    /// A device error or [`Error::Timeout`].
    pub fn last_kernel_time(&self) -> Result<Option<Duration>> {
        let Some(resolve) = lock(&self.inner.last_timing).take() else {
            return Ok(None);
        };
        let bytes = self.download_bytes(resolve.buffer(), 0, 16)?;
        let ticks: Vec<u64> = bytemuck::pod_collect_to_vec(&bytes);
        let (Some(&start), Some(&end)) = (ticks.first(), ticks.get(1)) else {
            return Ok(None);
        };
        let ns = end.saturating_sub(start) as f64 * f64::from(self.inner.timestamp_period_ns);
        Ok(Some(Duration::from_nanos(ns as u64)))
    }

    /// Workgroup counts as a 2-D grid (each dimension is capped at 65,535);
    /// kernels linearize it as `wid.x + wid.y * nwg.x`.
    pub(crate) fn grid(groups: u32) -> [u32; 3] {
        let groups = groups.max(1);
        let x = groups.min(65_535);
        [x, groups.div_ceil(x), 1]
    }
}

#[cfg(test)]
mod tests {
    use super::GpuContext;

    #[test]
    fn grids_cover_every_workgroup_and_respect_the_dimension_cap() {
        // Kernels ask for at most 2^21 workgroups (a sort of 2^30 keys); the
        // grid covers up to 65,535² within the per-dimension cap.
        for groups in [0u32, 1, 65_535, 65_536, 1 << 20, 1 << 21, 65_535 * 65_535] {
            let [x, y, _] = GpuContext::grid(groups);
            assert!(x <= 65_535 && y <= 65_535);
            assert!(u64::from(x) * u64::from(y) >= u64::from(groups.max(1)));
        }
    }
}
