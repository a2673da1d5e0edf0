//! One ONNX model on tract: load, concrete batch plans, validated runs.
//!
//! Loading parses and types the graph once to learn its inputs and outputs,
//! then builds an optimized plan per *batch class* on first use (a fixed,
//! small set such as 1, 8, 32, 128, 256): a request of `n` rows is split into
//! pieces of at most the largest class and each piece is zero-padded up to
//! the smallest class that holds it. A concrete batch is required for
//! recurrent operators (tract 0.23 panics optimizing an LSTM/GRU with a
//! symbolic batch and no initial states) and doubles GEMM speed at large
//! batches. Every call into the engine runs under `catch_unwind`.

mod load;
mod source;
mod spec;
mod split;

pub use source::{DEFAULT_BATCH_CLASSES, MAX_BATCH_CLASS, ModelOptions, ModelSource};
pub use spec::{Dim, TensorSpec};

use load::*;
use split::*;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Slice};
use tract_onnx::prelude::{
    Datum, InferenceModel, IntoTValue, IntoTensor, TDim, TValue, Tensor, TypedSimplePlan,
    TypedSimpleState, tvec,
};
use tract_onnx::tract_core::ops::konst::Const;
use tract_onnx::tract_hir::infer::Factoid;

use crate::budget::lock;
use crate::budget::{Backpressure, Budget, Reservation};
use crate::error::{Error, Result};

struct Plan {
    plan: Arc<TypedSimplePlan>,
    /// Idle states with the input shapes they last ran on.
    states: Mutex<Vec<(Vec<usize>, TypedSimpleState)>>,
}

/// Names a dimension parameter must have to be taken as the batch.
const BATCH_NAMES: [&str; 5] = ["N", "batch", "batch_size", "n", "B"];

/// A loaded model: its specs and its plans. `Send + Sync`; share it in an `Arc`.
pub struct Model {
    name: String,
    source: ModelSource,
    options: ModelOptions,
    budget: Budget,
    inputs: Vec<TensorSpec>,
    outputs: Vec<TensorSpec>,
    /// The batch symbol's name, if the model has a batch dimension.
    batch_symbol: Option<String>,
    recurrent: bool,
    /// Output elements per batch row (free dimensions counted as 1), for admission.
    output_elems_per_row: usize,
    source_bytes: u64,
    weight_bytes: u64,
    plans: Vec<OnceLock<Arc<Plan>>>,
    /// For a remainder of `r` rows (below the largest class), the class of its first piece.
    split_choice: Vec<usize>,
    build_lock: Mutex<()>,
    resident: Mutex<Reservation>,
    resident_bytes: AtomicU64,
    seen_consts: Mutex<HashSet<usize>>,
    plans_built: AtomicUsize,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.name)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .field("resident_bytes", &self.resident_bytes())
            .finish()
    }
}

impl Model {
    /// Loads `source` as `name`: parses and types the graph, reserving
    /// `load_peak_factor ×` its size in `budget` while doing so, then (if
    /// warm-up is on) builds and runs the smallest batch plan.
    pub fn load(
        name: &str,
        source: ModelSource,
        options: ModelOptions,
        budget: &Budget,
        backpressure: Backpressure,
    ) -> Result<Model> {
        options.validate()?;
        let source_bytes = source.len()?;
        if source_bytes == 0 {
            return Err(Error::Corrupt {
                model: name.to_string(),
                cause: "0 bytes".into(),
            });
        }
        let peak = (source_bytes as f64 * options.load_peak_factor).ceil() as u64;
        let reserve = budget.reserve(peak, "model load", backpressure)?;
        let bytes = source.read()?;
        let (inference, recurrent) = parse(name, &bytes, peak)?;
        drop(bytes);
        let weights = weight_bytes(&inference);

        // Inputs, from the parsed graph: element type, shape, the batch symbol.
        let mut raw_inputs = Vec::new();
        let mut batch_symbol: Option<String> = None;
        for (ix, outlet) in inference.inputs.iter().enumerate() {
            let fact = inference.input_fact(ix).map_err(|e| load_err(name, &e))?;
            let input_name = inference.node(outlet.node).name.clone();
            let dt = fact.datum_type.concretize();
            if dt != Some(f32::datum_type()) {
                return Err(Error::UnsupportedInput {
                    model: name.to_string(),
                    input: input_name,
                    dtype: dt.map_or_else(|| "unknown".to_string(), |d| format!("{d:?}")),
                });
            }
            let Some(shape) = fact.shape.concretize() else {
                return Err(Error::Load {
                    model: name.to_string(),
                    cause: format!(
                        "input {input_name:?} has no declared shape; export it with one (dim_param N for the batch)"
                    ),
                });
            };
            let shape: Vec<TDim> = shape.into_iter().collect();
            if batch_symbol.is_none() {
                let symbolic: Vec<String> = shape
                    .iter()
                    .filter(|d| d.to_i64().is_err())
                    .map(ToString::to_string)
                    .collect();
                batch_symbol = symbolic
                    .iter()
                    .find(|s| BATCH_NAMES.contains(&s.as_str()))
                    .cloned()
                    .or_else(|| {
                        shape
                            .first()
                            .filter(|d| d.to_i64().is_err())
                            .map(ToString::to_string)
                    });
            }
            raw_inputs.push((input_name, shape));
        }
        let inputs: Vec<TensorSpec> = raw_inputs
            .into_iter()
            .map(|(n, s)| TensorSpec {
                name: n,
                dims: dims_of(&s, batch_symbol.as_deref()),
            })
            .collect();

        // Outputs, from a typed copy: symbolic where the engine allows it,
        // else with a sentinel batch whose axes are then the batch axes.
        let probe_pin = match (&batch_symbol, recurrent) {
            (Some(sym), true) => Some((sym.as_str(), SENTINEL_BATCH)),
            _ => None,
        };
        // The probe consumes the parsed graph (it may pin a sentinel batch);
        // plans are built from a fresh parse.
        let probe = typed(name, inference, probe_pin)?;
        let mut outputs = Vec::new();
        for (ix, outlet) in probe
            .output_outlets()
            .map_err(|e| load_err(name, &e))?
            .iter()
            .enumerate()
        {
            let fact = probe.output_fact(ix).map_err(|e| load_err(name, &e))?;
            let shape: Vec<TDim> = fact.shape.iter().cloned().collect();
            let out_name = probe
                .outlet_label(*outlet)
                .map(str::to_string)
                .unwrap_or_else(|| probe.node(outlet.node).name.clone());
            let mut dims = dims_of(&shape, batch_symbol.as_deref());
            if probe_pin.is_some() {
                for d in &mut dims {
                    if *d == Dim::Fixed(SENTINEL_BATCH) {
                        *d = Dim::Batch;
                    }
                }
            }
            outputs.push(TensorSpec {
                name: out_name,
                dims,
            });
        }
        drop(probe);
        // Padding and splitting need the batch on every input and output.
        let batchable = batch_symbol.is_some()
            && inputs.iter().all(|s| s.batch_axis().is_some())
            && outputs.iter().all(|s| s.batch_axis().is_some());
        if !batchable {
            batch_symbol = None;
        }
        if recurrent
            && batch_symbol.is_none()
            && inputs
                .iter()
                .any(|s| s.dims.iter().any(|d| matches!(d, Dim::Free(_))))
        {
            // A recurrent graph whose batch we cannot identify would reach the
            // engine's panic; refuse it with a typed error instead.
            return Err(Error::Load {
                model: name.to_string(),
                cause: "a recurrent model needs its batch dimension named N or batch (dim_param) or a fixed shape".into(),
            });
        }
        let output_elems_per_row = outputs
            .iter()
            .map(|s| {
                s.dims
                    .iter()
                    .map(|d| match d {
                        Dim::Fixed(n) => *n,
                        _ => 1,
                    })
                    .product::<usize>()
            })
            .sum();
        let n_plans = if batch_symbol.is_some() {
            options.batch_classes.len()
        } else {
            1
        };
        let split_choice = split_plan(&options.batch_classes);
        let model = Model {
            name: name.to_string(),
            source,
            options,
            budget: budget.clone(),
            inputs,
            outputs,
            batch_symbol,
            recurrent,
            output_elems_per_row,
            source_bytes,
            weight_bytes: weights,
            plans: (0..n_plans).map(|_| OnceLock::new()).collect(),
            split_choice,
            build_lock: Mutex::new(()),
            resident: Mutex::new(Reservation::empty()),
            resident_bytes: AtomicU64::new(0),
            seen_consts: Mutex::new(HashSet::new()),
            plans_built: AtomicUsize::new(0),
        };
        model.build_plan(0, None, reserve)?;
        if model.options.warmup {
            let class = model.class_size(0);
            let zeros: Vec<ArrayD<f32>> = model
                .inputs
                .iter()
                .map(|s| ArrayD::zeros(IxDyn(&model.concrete_shape(s, class))))
                .collect();
            let views: Vec<ArrayViewD<'_, f32>> = zeros.iter().map(|a| a.view()).collect();
            model.run(&views)?;
        }
        Ok(model)
    }

    fn class_size(&self, class_idx: usize) -> usize {
        if self.batch_symbol.is_some() {
            self.options.batch_classes[class_idx]
        } else {
            1
        }
    }

    /// A shape for warm-up: batch = `batch`, free dimensions = 1.
    fn concrete_shape(&self, spec: &TensorSpec, batch: usize) -> Vec<usize> {
        spec.dims
            .iter()
            .map(|d| match d {
                Dim::Batch => batch,
                Dim::Fixed(n) => *n,
                Dim::Free(_) => 1,
            })
            .collect()
    }

    /// Builds (once) the plan of batch class `class_idx`.
    fn build_plan(
        &self,
        class_idx: usize,
        inference: Option<InferenceModel>,
        reserve: Reservation,
    ) -> Result<Arc<Plan>> {
        if let Some(p) = self.plans[class_idx].get() {
            return Ok(Arc::clone(p));
        }
        // One build at a time per model, so load peaks do not stack.
        let _one = lock(&self.build_lock);
        if let Some(p) = self.plans[class_idx].get() {
            return Ok(Arc::clone(p));
        }
        let mut reserve = reserve;
        if reserve.bytes() == 0 {
            let peak = (self.source_bytes as f64 * self.options.load_peak_factor).ceil() as u64;
            reserve = self.budget.try_reserve(peak, "batch plan build")?;
        }
        let inference = match inference {
            Some(m) => m,
            None => {
                let bytes = self.source.read()?;
                let limit =
                    (self.source_bytes as f64 * self.options.load_peak_factor).ceil() as u64;
                parse(&self.name, &bytes, limit)?.0
            }
        };
        let pin = self
            .batch_symbol
            .as_deref()
            .map(|sym| (sym, self.class_size(class_idx)));
        let plan = plan_of(&self.name, typed(&self.name, inference, pin)?)?;
        // Optimized matmuls keep their packed weights inside the operator,
        // out of reach: charge the parsed weights (the packed copy replaces
        // them; tests check RSS stays within 1.2x) plus the plan's own
        // constants.
        let bytes = self.weight_bytes + self.count_new_const_bytes(&plan);
        // Keep what the plan holds; give back the rest of the load reserve.
        reserve.shrink_to(bytes);
        if reserve.bytes() < bytes {
            let extra = self
                .budget
                .try_reserve(bytes - reserve.bytes(), "model weights")?;
            reserve.merge(extra);
        }
        lock(&self.resident).merge(reserve);
        self.resident_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.plans_built.fetch_add(1, Ordering::Relaxed);
        let plan = Arc::new(Plan {
            plan,
            states: Mutex::new(Vec::new()),
        });
        let _ = self.plans[class_idx].set(Arc::clone(&plan));
        Ok(plan)
    }

    /// Bytes of the plan's constants not already counted for another plan.
    fn count_new_const_bytes(&self, plan: &Arc<TypedSimplePlan>) -> u64 {
        let mut seen = lock(&self.seen_consts);
        let mut total = 0u64;
        for node in plan.model().nodes() {
            if let Some(k) = node.op_as::<Const>() {
                let t: &Arc<Tensor> = k.val();
                if !seen.insert(Arc::as_ptr(t) as usize) {
                    continue;
                }
                let bytes = match k.exotic_fact() {
                    Some(f) => f.mem_size().to_i64().map_or(0, |v| v.max(0) as u64),
                    None => (t.len() * t.datum_type().size_of()) as u64,
                };
                total += bytes;
            }
        }
        total
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The declared inputs, in order.
    pub fn inputs(&self) -> &[TensorSpec] {
        &self.inputs
    }

    /// The declared outputs, in order.
    pub fn outputs(&self) -> &[TensorSpec] {
        &self.outputs
    }

    /// Whether the graph has recurrent operators (LSTM, GRU, RNN, Scan).
    pub fn is_recurrent(&self) -> bool {
        self.recurrent
    }

    /// Whether requests are split and padded to batch classes.
    pub fn is_batched(&self) -> bool {
        self.batch_symbol.is_some()
    }

    /// Size of the serialized model, bytes.
    pub fn source_bytes(&self) -> u64 {
        self.source_bytes
    }

    /// Bytes of the model's weights (its constant tensors), as parsed.
    pub fn weight_bytes(&self) -> u64 {
        self.weight_bytes
    }

    /// Bytes charged to the budget for the built plans: the weights once per
    /// plan plus each plan's own constants.
    pub fn resident_bytes(&self) -> u64 {
        self.resident_bytes.load(Ordering::Relaxed)
    }

    /// How many batch plans have been built.
    pub fn plans_built(&self) -> usize {
        self.plans_built.load(Ordering::Relaxed)
    }

    /// Bytes a run of `rows` rows allocates outside the engine: padded input
    /// copies and outputs (free dimensions need `input_elems` to be known;
    /// pass the input lengths of one row).
    pub fn request_bytes(&self, rows: usize, input_elems_per_row: usize) -> u64 {
        let max = self.largest_class();
        let padded = if self.is_batched() {
            rows.div_ceil(max).saturating_mul(max).max(rows)
        } else {
            rows
        };
        let per_row = input_elems_per_row.saturating_add(self.output_elems_per_row);
        (padded as u64)
            .saturating_mul(per_row as u64)
            .saturating_mul(4)
            .saturating_mul(2)
    }

    fn largest_class(&self) -> usize {
        if self.is_batched() {
            *self.options.batch_classes.last().unwrap_or(&1)
        } else {
            1
        }
    }

    /// Checks shapes and returns the batch size.
    fn check_inputs(&self, inputs: &[ArrayViewD<'_, f32>]) -> Result<usize> {
        if inputs.len() != self.inputs.len() {
            return Err(Error::InputShape {
                model: self.name.clone(),
                input: format!("{} inputs", self.inputs.len()),
                expected: format!("{} tensors", self.inputs.len()),
                got: vec![inputs.len()],
            });
        }
        let mut batch = None;
        let mut free: HashMap<&str, usize> = HashMap::new();
        for (spec, x) in self.inputs.iter().zip(inputs) {
            let bad = || Error::InputShape {
                model: self.name.clone(),
                input: spec.name.clone(),
                expected: spec.shape_string(),
                got: x.shape().to_vec(),
            };
            if x.ndim() != spec.dims.len() {
                return Err(bad());
            }
            for (d, &n) in spec.dims.iter().zip(x.shape()) {
                match d {
                    Dim::Fixed(k) if *k != n => return Err(bad()),
                    Dim::Batch => {
                        if *batch.get_or_insert(n) != n {
                            return Err(bad());
                        }
                    }
                    Dim::Free(s) => {
                        if n == 0 || *free.entry(s.as_str()).or_insert(n) != n {
                            return Err(bad());
                        }
                    }
                    Dim::Fixed(_) => {}
                }
            }
        }
        let n = batch.unwrap_or(1);
        if n == 0 {
            return Err(Error::Empty("the batch"));
        }
        for (spec, x) in self.inputs.iter().zip(inputs) {
            if let Some((index, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(Error::NonFiniteInput {
                    model: self.name.clone(),
                    input: spec.name.clone(),
                    index,
                    value,
                });
            }
        }
        Ok(n)
    }

    /// Splits `n` rows into (start, len, class index) pieces: whole runs of
    /// the largest class, then the remainder as planned by [`split_plan`].
    fn pieces(&self, n: usize) -> Vec<(usize, usize, usize)> {
        if !self.is_batched() {
            return vec![(0, n, 0)];
        }
        let classes = &self.options.batch_classes;
        let last = classes.len() - 1;
        let largest = classes[last];
        let mut out = Vec::with_capacity(n / largest + 4);
        let mut start = 0;
        while n - start >= largest {
            out.push((start, largest, last));
            start += largest;
        }
        while start < n {
            let rest = n - start;
            let idx = self.split_choice[rest];
            let len = classes[idx].min(rest);
            out.push((start, len, idx));
            start += len;
        }
        out
    }

    /// Runs the model on `inputs` (one array per declared input, in order,
    /// with the batch on its declared axis); returns one array per output.
    pub fn run(&self, inputs: &[ArrayViewD<'_, f32>]) -> Result<Vec<ArrayD<f32>>> {
        let n = self.check_inputs(inputs)?;
        let pieces = self.pieces(n);
        let mut parts: Vec<Vec<ArrayD<f32>>> = Vec::with_capacity(pieces.len());
        for (start, len, idx) in pieces {
            let plan = match self.plans[idx].get() {
                Some(p) => Arc::clone(p),
                None => self.build_plan(idx, None, Reservation::empty())?,
            };
            let class = self.class_size(idx);
            let mut tensors = tvec![];
            for (spec, x) in self.inputs.iter().zip(inputs) {
                let t: Tensor = match spec.batch_axis() {
                    Some(ax) if self.is_batched() => {
                        let piece = x.slice_axis(Axis(ax), Slice::from(start..start + len));
                        if len == class {
                            piece.to_owned().into()
                        } else {
                            let mut shape = piece.shape().to_vec();
                            shape[ax] = class;
                            let mut padded = ArrayD::<f32>::zeros(IxDyn(&shape));
                            padded
                                .slice_axis_mut(Axis(ax), Slice::from(0..len))
                                .assign(&piece);
                            padded.into()
                        }
                    }
                    _ => x.to_owned().into(),
                };
                tensors.push(t.into_tvalue());
            }
            let outs = self.run_plan(&plan, tensors)?;
            let mut arrays = Vec::with_capacity(outs.len());
            for (spec, v) in self.outputs.iter().zip(outs) {
                let t = v.into_tensor();
                let t = t.cast_to::<f32>().map_err(|e| load_err(&self.name, &e))?;
                let a = t
                    .to_plain_array_view::<f32>()
                    .map_err(|e| load_err(&self.name, &e))?;
                let a = match spec.batch_axis() {
                    Some(ax) if self.is_batched() && len != class => {
                        a.slice_axis(Axis(ax), Slice::from(0..len)).to_owned()
                    }
                    _ => a.to_owned(),
                };
                arrays.push(a);
            }
            parts.push(arrays);
        }
        if parts.len() == 1 {
            return Ok(parts.pop().unwrap_or_default());
        }
        let mut out = Vec::with_capacity(self.outputs.len());
        for (o, spec) in self.outputs.iter().enumerate() {
            let ax = spec.batch_axis().unwrap_or(0);
            let views: Vec<ArrayViewD<'_, f32>> = parts.iter().map(|p| p[o].view()).collect();
            let joined = ndarray::concatenate(Axis(ax), &views).map_err(|e| Error::Load {
                model: self.name.clone(),
                cause: format!("joining batch pieces: {e}"),
            })?;
            out.push(joined);
        }
        Ok(out)
    }

    fn run_plan(
        &self,
        plan: &Plan,
        inputs: tract_onnx::prelude::TVec<TValue>,
    ) -> Result<tract_onnx::prelude::TVec<TValue>> {
        // A reused tract state carries a recurrent op's last hidden state
        // into the next run (where the model declares no initial state): an
        // LSTM drifted 2e-4 from onnxruntime (measured). Recurrent models get
        // a fresh state per run; others reuse one that last ran on inputs of
        // the same shapes (its scratch buffers fit).
        let reuse = !self.recurrent;
        let key: Vec<usize> = inputs
            .iter()
            .flat_map(|t| std::iter::once(t.rank()).chain(t.shape().iter().copied()))
            .collect();
        let found = {
            let mut states = lock(&plan.states);
            let at = states
                .iter()
                .rposition(|(k, _)| *k == key)
                .filter(|_| reuse);
            at.map(|i| states.swap_remove(i).1)
        };
        let mut state = match found {
            Some(s) => s,
            None => plan.plan.spawn().map_err(|e| load_err(&self.name, &e))?,
        };
        let out = guarded(&self.name, || {
            state.run(inputs).map_err(|e| Error::Load {
                model: self.name.clone(),
                cause: format!("run: {e:#}"),
            })
        });
        if out.is_ok() && reuse {
            let mut states = lock(&plan.states);
            // At most one idle state per core: each holds the plan's scratch
            // buffers. The oldest goes first.
            if states.len() >= max_states() {
                states.remove(0);
            }
            states.push((key, state));
        }
        out
    }
}

/// States kept per plan: one per core. `available_parallelism` reads cgroup
/// files on Linux (tens of microseconds), so it is asked once.
fn max_states() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}
