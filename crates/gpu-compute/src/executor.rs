//! [`Executor`]: runs each call on the GPU or the CPU, whichever the cost
//! model predicts is faster, and reports the choice beside the measured time.

use std::time::{Duration, Instant};

use crate::context::{ContextConfig, GpuContext};
use crate::cost::{CostModel, Kind, Work};
use crate::error::{Error, Result};
use crate::kernels::histogram::{self, Histogram, HistogramSpec};
use crate::kernels::reduce::{self, Moments, Stats};
use crate::kernels::{Activation, elementwise, gemm, sort};
use crate::mlp::{GpuMlp, Mlp};
use crate::tensor::GpuTensor;

/// Where calls run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Placement {
    /// Per call, by the cost model.
    #[default]
    Auto,
    /// Always the GPU (an error without one).
    Gpu,
    /// Always the CPU.
    Cpu,
}

/// Which device ran a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Device {
    /// The GPU.
    Gpu,
    /// The CPU (rayon).
    Cpu,
}

/// What the executor chose and how long it took.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// Where the call ran.
    pub device: Device,
    /// The model's GPU time, transfers included (`None` without a GPU).
    pub predicted_gpu: Option<Duration>,
    /// The model's CPU time.
    pub predicted_cpu: Duration,
    /// Wall time of the call as run.
    pub measured: Duration,
    /// GPU time of the call's last batch of kernels, from timestamp
    /// queries (`None` on the CPU or without timestamp support).
    pub gpu_time: Option<Duration>,
}

/// A result and its [`Report`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Executed<T> {
    /// The result.
    pub value: T,
    /// How it was computed.
    pub report: Report,
}

/// Data for an executor call: on the host, or already on the GPU.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Operand<'a> {
    /// A host slice.
    Host(&'a [f32]),
    /// A resident tensor (the CPU path downloads it first).
    Gpu(&'a GpuTensor),
}

impl<'a> From<&'a [f32]> for Operand<'a> {
    fn from(x: &'a [f32]) -> Self {
        Self::Host(x)
    }
}

impl<'a> From<&'a Vec<f32>> for Operand<'a> {
    fn from(x: &'a Vec<f32>) -> Self {
        Self::Host(x)
    }
}

impl<'a> From<&'a GpuTensor> for Operand<'a> {
    fn from(x: &'a GpuTensor) -> Self {
        Self::Gpu(x)
    }
}

impl Operand<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Host(x) => x.len(),
            Self::Gpu(t) => t.len(),
        }
    }

    fn bytes_on_host(&self) -> f64 {
        match self {
            Self::Host(x) => 4.0 * x.len() as f64,
            Self::Gpu(_) => 0.0,
        }
    }

    fn bytes_on_gpu(&self) -> f64 {
        match self {
            Self::Host(_) => 0.0,
            Self::Gpu(t) => 4.0 * t.len() as f64,
        }
    }
}

/// Configuration of an [`Executor`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ExecutorConfig {
    context: ContextConfig,
    placement: Placement,
    require_gpu: bool,
}

impl ExecutorConfig {
    /// The GPU context's configuration (adapter policy, timeouts, pool caps).
    #[must_use]
    pub fn context(mut self, config: ContextConfig) -> Self {
        self.context = config;
        self
    }

    /// Where calls run. Default [`Placement::Auto`].
    #[must_use]
    pub fn placement(mut self, placement: Placement) -> Self {
        self.placement = placement;
        self
    }

    /// Fail with [`Error::NoAdapter`] instead of running on the CPU when no
    /// adapter is found. Default false (fall back).
    #[must_use]
    pub fn require_gpu(mut self, required: bool) -> Self {
        self.require_gpu = required;
        self
    }
}

/// Runs kernels where they are fastest; every call returns its [`Report`].
///
/// Without a GPU (none present, or [`AdapterPolicy::Disabled`](crate::AdapterPolicy::Disabled))
/// every call runs on the CPU twin and returns the same results.
#[derive(Debug, Clone)]
pub struct Executor {
    gpu: Option<GpuContext>,
    model: CostModel,
    placement: Placement,
}

impl Executor {
    /// Opens a GPU context by `config` (or none, when there is no adapter
    /// and one is not required) and calibrates the cost model: a few tens
    /// of milliseconds on the CPU plus up to about half a second on the GPU.
    ///
    /// # Errors
    ///
    /// [`Error::NoAdapter`] when `require_gpu` is set and there is none, or
    /// `Placement::Gpu` without a GPU; context and calibration errors.
    pub fn new(config: ExecutorConfig) -> Result<Self> {
        let gpu = match GpuContext::new(config.context) {
            Ok(ctx) => Some(ctx),
            Err(Error::NoAdapter { detail })
                if !config.require_gpu && config.placement != Placement::Gpu =>
            {
                let _ = detail;
                None
            }
            Err(e) => return Err(e),
        };
        let model = CostModel {
            cpu: CostModel::calibrate_cpu()?,
            gpu: gpu.as_ref().map(CostModel::calibrate_gpu).transpose()?,
        };
        Ok(Self {
            gpu,
            model,
            placement: config.placement,
        })
    }

    /// An executor over an existing context with a model measured before
    /// (skips calibration; tests and long-running services reuse one).
    pub fn with_model(gpu: Option<GpuContext>, model: CostModel, placement: Placement) -> Self {
        let model = CostModel {
            gpu: if gpu.is_some() { model.gpu } else { None },
            ..model
        };
        Self {
            gpu,
            model,
            placement,
        }
    }

    /// CPU only, no GPU probing.
    ///
    /// # Errors
    ///
    /// Only if the CPU calibration fails (it does not on valid hardware).
    pub fn cpu_only() -> Result<Self> {
        Ok(Self {
            gpu: None,
            model: CostModel {
                cpu: CostModel::calibrate_cpu()?,
                gpu: None,
            },
            placement: Placement::Cpu,
        })
    }

    /// The GPU context, when there is one.
    pub fn gpu(&self) -> Option<&GpuContext> {
        self.gpu.as_ref()
    }

    /// The calibrated model.
    pub fn cost_model(&self) -> &CostModel {
        &self.model
    }

    /// The same executor with another placement (shares the context and model).
    #[must_use]
    pub fn with_placement(&self, placement: Placement) -> Self {
        Self {
            placement,
            ..self.clone()
        }
    }

    fn choose(&self, work: &Work, operands: &[Operand<'_>]) -> Result<(Device, Report)> {
        let resident: f64 = operands.iter().map(Operand::bytes_on_gpu).sum();
        let predicted_cpu = self.model.predict_cpu(work, resident);
        let predicted_gpu = self.model.predict_gpu(work);
        let device = match (self.placement, &self.gpu, predicted_gpu) {
            (Placement::Cpu, _, _) => Device::Cpu,
            (Placement::Gpu, None, _) => {
                return Err(Error::NoAdapter {
                    detail: "Placement::Gpu was asked for but the executor has no GPU".into(),
                });
            }
            (Placement::Gpu, Some(_), _) => Device::Gpu,
            (Placement::Auto, Some(_), Some(gpu)) if gpu < predicted_cpu => Device::Gpu,
            (Placement::Auto, _, _) => Device::Cpu,
        };
        let report = Report {
            device,
            predicted_gpu,
            predicted_cpu,
            measured: Duration::ZERO,
            gpu_time: None,
        };
        Ok((device, report))
    }

    fn ctx(&self) -> Result<&GpuContext> {
        self.gpu.as_ref().ok_or(Error::NoAdapter {
            detail: "the executor has no GPU".into(),
        })
    }

    fn timed<T>(&self, report: Report, started: Instant, value: T) -> Executed<T> {
        let measured = started.elapsed();
        let gpu_time = match (report.device, &self.gpu) {
            (Device::Gpu, Some(ctx)) => ctx.last_kernel_time().ok().flatten(),
            _ => None,
        };
        Executed {
            value,
            report: Report {
                measured,
                gpu_time,
                ..report
            },
        }
    }

    /// Host data for a CPU path (downloads a resident operand).
    fn host<'a>(operand: &'a Operand<'a>) -> Result<std::borrow::Cow<'a, [f32]>> {
        match operand {
            Operand::Host(x) => Ok(std::borrow::Cow::Borrowed(*x)),
            Operand::Gpu(t) => Ok(std::borrow::Cow::Owned(t.to_vec()?)),
        }
    }

    /// Runs `f` on resident pieces of `operand`: a resident tensor whole, a
    /// host slice uploaded in pieces of at most one binding.
    fn on_gpu_chunks<T>(
        &self,
        operand: &Operand<'_>,
        mut f: impl FnMut(&GpuContext, &GpuTensor) -> Result<T>,
    ) -> Result<Vec<T>> {
        let ctx = self.ctx()?;
        match operand {
            Operand::Gpu(t) => Ok(vec![f(ctx, t)?]),
            Operand::Host(x) => {
                let chunk = (ctx.max_tensor_bytes() / 4) as usize;
                x.chunks(chunk.max(1))
                    .map(|piece| f(ctx, &ctx.upload(piece)?))
                    .collect()
            }
        }
    }

    /// [`Stats`] of `x`.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`] for no data; device errors on the GPU path.
    pub fn stats<'a>(&self, x: impl Into<Operand<'a>>) -> Result<Executed<Stats>> {
        let x = x.into();
        if x.len() == 0 {
            return Err(Error::Empty("stats"));
        }
        let work = Work {
            upload: x.bytes_on_host(),
            download: 0.0,
            kind: Kind::Stats,
            amount: x.len() as f64,
        };
        let (device, report) = self.choose(&work, &[x])?;
        let started = Instant::now();
        let value = match device {
            Device::Cpu => reduce::cpu(&Self::host(&x)?)?,
            Device::Gpu => {
                Moments::merge_all(self.on_gpu_chunks(&x, |ctx, t| ctx.moments(t))?).finish()
            }
        };
        Ok(self.timed(report, started, value))
    }

    /// The [`Histogram`] of `x`.
    ///
    /// # Errors
    ///
    /// As [`stats`](Self::stats).
    pub fn histogram<'a>(
        &self,
        x: impl Into<Operand<'a>>,
        spec: &HistogramSpec,
    ) -> Result<Executed<Histogram>> {
        let x = x.into();
        if x.len() == 0 {
            return Err(Error::Empty("histogram"));
        }
        let work = Work {
            upload: x.bytes_on_host(),
            download: 0.0,
            kind: Kind::Histogram,
            amount: x.len() as f64,
        };
        let (device, report) = self.choose(&work, &[x])?;
        let started = Instant::now();
        let value = match device {
            Device::Cpu => histogram::cpu(&Self::host(&x)?, spec)?,
            Device::Gpu => {
                let parts = self.on_gpu_chunks(&x, |ctx, t| ctx.histogram(t, spec))?;
                let mut total = parts[0].clone();
                for part in &parts[1..] {
                    total.merge(part);
                }
                total
            }
        };
        Ok(self.timed(report, started, value))
    }

    /// A sorted copy of `x` (by `f32::total_cmp`) on the host.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`]; on the GPU path [`Error::TooLarge`] past one
    /// binding (use `Placement::Auto`, which then picks the CPU).
    pub fn sort<'a>(&self, x: impl Into<Operand<'a>>) -> Result<Executed<Vec<f32>>> {
        let x = x.into();
        if x.len() == 0 {
            return Err(Error::Empty("sort"));
        }
        let work = self.sort_work(&x, 4.0 * x.len() as f64);
        let (device, report) = self.choose(&work, &[x])?;
        let started = Instant::now();
        let value = match device {
            Device::Cpu => sort::cpu(&Self::host(&x)?)?,
            Device::Gpu => self.gpu_sorted(&x, |ctx, t| ctx.sort(t)?.to_vec())?,
        };
        Ok(self.timed(report, started, value))
    }

    /// Exact percentiles of `x` (numpy's "linear" method), one per quantile.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a quantile outside `[0, 1]`,
    /// [`Error::NanInput`] when `x` holds NaN, [`Error::Empty`].
    pub fn percentiles<'a>(
        &self,
        x: impl Into<Operand<'a>>,
        quantiles: &[f64],
    ) -> Result<Executed<Vec<f64>>> {
        let x = x.into();
        sort::ranks(x.len(), quantiles)?;
        let work = self.sort_work(&x, 8.0 * quantiles.len() as f64);
        let (device, report) = self.choose(&work, &[x])?;
        let started = Instant::now();
        let value = match device {
            Device::Cpu => sort::cpu_percentiles(&Self::host(&x)?, quantiles)?,
            Device::Gpu => self.gpu_sorted(&x, |ctx, t| ctx.percentiles(t, quantiles))?,
        };
        Ok(self.timed(report, started, value))
    }

    fn sort_work(&self, x: &Operand<'_>, download: f64) -> Work {
        let mut work = Work {
            upload: x.bytes_on_host(),
            download,
            kind: Kind::Sort,
            amount: x.len() as f64,
        };
        // A GPU sort needs the padded keys in one binding; past that only
        // the CPU can do it, so make the GPU look infinitely slow.
        let padded = x.len().next_power_of_two().max(512) as u64 * 4;
        if self
            .gpu
            .as_ref()
            .is_some_and(|ctx| padded > ctx.max_tensor_bytes())
        {
            work.upload = f64::INFINITY;
        }
        work
    }

    fn gpu_sorted<T>(
        &self,
        x: &Operand<'_>,
        f: impl FnOnce(&GpuContext, &GpuTensor) -> Result<T>,
    ) -> Result<T> {
        let ctx = self.ctx()?;
        match x {
            Operand::Gpu(t) => f(ctx, t),
            Operand::Host(data) => f(ctx, &ctx.upload(data)?),
        }
    }

    /// `act(a · b + bias)` for row-major host matrices `a` (`m × k`) and `b` (`k × n`).
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] when the lengths do not match the dimensions,
    /// [`Error::Empty`] for a zero dimension; device errors.
    pub fn dense(
        &self,
        a: &[f32],
        b: &[f32],
        bias: Option<&[f32]>,
        (m, k, n): (usize, usize, usize),
        act: Activation,
    ) -> Result<Executed<Vec<f32>>> {
        gemm::check_host(a, b, bias, (m, k, n))?;
        let work = Work {
            upload: 4.0 * (a.len() + b.len()) as f64,
            download: 4.0 * (m * n) as f64,
            kind: Kind::Gemm,
            amount: 2.0 * m as f64 * k as f64 * n as f64,
        };
        let (device, report) = self.choose(&work, &[])?;
        let started = Instant::now();
        let value = match device {
            Device::Cpu => gemm::cpu(a, b, bias, (m, k, n), act)?,
            Device::Gpu => {
                let ctx = self.ctx()?;
                let ta = ctx.upload_matrix(a, m, k)?;
                let tb = ctx.upload_matrix(b, k, n)?;
                let tbias = bias.map(|v| ctx.upload(v)).transpose()?;
                ctx.dense(&ta, &tb, tbias.as_ref(), act)?.to_vec()?
            }
        };
        Ok(self.timed(report, started, value))
    }

    /// `a · b` for row-major host matrices.
    ///
    /// # Errors
    ///
    /// As [`dense`](Self::dense).
    pub fn matmul(
        &self,
        a: &[f32],
        b: &[f32],
        dims: (usize, usize, usize),
    ) -> Result<Executed<Vec<f32>>> {
        self.dense(a, b, None, dims, Activation::Identity)
    }

    /// `a·x + y` on host vectors (CPU unless placed on the GPU: one pass
    /// over memory never repays the transfer).
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] for unequal lengths, [`Error::Empty`].
    pub fn axpy(&self, a: f32, x: &[f32], y: &[f32]) -> Result<Executed<Vec<f32>>> {
        elementwise::check_lengths("axpy", x.len(), y.len())?;
        let work = Work {
            upload: 8.0 * x.len() as f64,
            download: 4.0 * x.len() as f64,
            kind: Kind::Stats,
            amount: x.len() as f64,
        };
        let (device, report) = self.choose(&work, &[])?;
        let started = Instant::now();
        let value = match device {
            Device::Cpu => elementwise::cpu(elementwise::Op::Axpy(a), x, y)?,
            Device::Gpu => {
                let ctx = self.ctx()?;
                ctx.axpy(a, &ctx.upload(x)?, &ctx.upload(y)?)?.to_vec()?
            }
        };
        Ok(self.timed(report, started, value))
    }

    /// The forward pass of `mlp` over `rows` rows of host input; on the GPU
    /// through `resident`, its weights uploaded once (pass `None` to run
    /// on the CPU only).
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] when `x` is not `rows × mlp.inputs()`; device errors.
    pub fn mlp_forward(
        &self,
        mlp: &Mlp,
        resident: Option<&GpuMlp>,
        x: &[f32],
        rows: usize,
    ) -> Result<Executed<Vec<f32>>> {
        mlp.check_input(x.len(), rows)?;
        let work = Work {
            upload: 4.0 * x.len() as f64,
            download: 4.0 * (rows * mlp.outputs()) as f64,
            kind: Kind::Gemm,
            amount: rows as f64 * mlp.flops_per_row(),
        };
        let (mut device, report) = self.choose(&work, &[])?;
        if resident.is_none() {
            device = Device::Cpu;
        }
        let report = Report { device, ..report };
        let started = Instant::now();
        let value = match (device, resident) {
            (Device::Gpu, Some(gpu_mlp)) => {
                let ctx = self.ctx()?;
                gpu_mlp
                    .forward(&ctx.upload_matrix(x, rows, mlp.inputs())?)?
                    .to_vec()?
            }
            _ => mlp.forward_cpu(x, rows)?,
        };
        Ok(self.timed(report, started, value))
    }
}
