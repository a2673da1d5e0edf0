//! Multi-layer perceptrons: weights kept resident on the GPU, a batched
//! forward pass as one submit of fused dense kernels, and the CPU twin.

use crate::context::GpuContext;
use crate::dispatch::Batch;
use crate::error::{Error, Result};
use crate::kernels::Activation;
use crate::kernels::gemm;
use crate::tensor::GpuTensor;

/// One dense layer: `y = act(x · weights + bias)`, `weights` row-major
/// `inputs × outputs` (ONNX `MatMul` + `Add` layout).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    weights: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
    activation: Activation,
}

impl Layer {
    /// A layer of `inputs × outputs` weights and `outputs` biases.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] when the lengths do not match, [`Error::Empty`] for
    /// a zero dimension.
    pub fn new(
        weights: Vec<f32>,
        bias: Vec<f32>,
        inputs: usize,
        outputs: usize,
        activation: Activation,
    ) -> Result<Self> {
        if inputs == 0 || outputs == 0 {
            return Err(Error::Empty("layer"));
        }
        if inputs.checked_mul(outputs) != Some(weights.len()) || bias.len() != outputs {
            return Err(Error::Shape {
                what: "layer",
                detail: format!(
                    "{} weights and {} biases for {inputs} inputs × {outputs} outputs; pass \
                     inputs × outputs weights and one bias per output",
                    weights.len(),
                    bias.len()
                ),
            });
        }
        Ok(Self {
            weights,
            bias,
            inputs,
            outputs,
            activation,
        })
    }

    /// Inputs per row.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Outputs per row.
    pub fn outputs(&self) -> usize {
        self.outputs
    }
}

/// A chain of dense layers.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    layers: Vec<Layer>,
}

impl Mlp {
    /// Chains `layers`; each layer's outputs feed the next one's inputs.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`] for no layers, [`Error::Shape`] when neighbours do
    /// not fit.
    pub fn new(layers: Vec<Layer>) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::Empty("mlp"));
        }
        for (i, pair) in layers.windows(2).enumerate() {
            if pair[0].outputs != pair[1].inputs {
                return Err(Error::Shape {
                    what: "mlp",
                    detail: format!(
                        "layer {i} has {} outputs but layer {} takes {} inputs",
                        pair[0].outputs,
                        i + 1,
                        pair[1].inputs
                    ),
                });
            }
        }
        Ok(Self { layers })
    }

    /// Inputs per row of the first layer.
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs
    }

    /// Outputs per row of the last layer.
    pub fn outputs(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs
    }

    /// Multiply-adds per input row (for cost estimates).
    pub(crate) fn flops_per_row(&self) -> f64 {
        self.layers
            .iter()
            .map(|l| 2.0 * (l.inputs * l.outputs) as f64)
            .sum()
    }

    /// The CPU twin: `rows × inputs` in, `rows × outputs` out.
    pub(crate) fn forward_cpu(&self, x: &[f32], rows: usize) -> Result<Vec<f32>> {
        self.check_input(x.len(), rows)?;
        let mut current = x.to_vec();
        for layer in &self.layers {
            current = gemm::cpu(
                &current,
                &layer.weights,
                Some(&layer.bias),
                (rows, layer.inputs, layer.outputs),
                layer.activation,
            )?;
        }
        Ok(current)
    }

    pub(crate) fn check_input(&self, len: usize, rows: usize) -> Result<()> {
        if rows == 0 {
            return Err(Error::Empty("mlp forward"));
        }
        if rows.checked_mul(self.inputs()) != Some(len) {
            return Err(Error::Shape {
                what: "mlp forward",
                detail: format!(
                    "{len} values are not {rows} rows of {} inputs",
                    self.inputs()
                ),
            });
        }
        Ok(())
    }
}

/// An [`Mlp`] whose weights live on the GPU (uploaded once).
#[derive(Debug, Clone)]
pub struct GpuMlp {
    layers: Vec<(GpuTensor, GpuTensor, Activation)>,
    inputs: usize,
}

impl GpuContext {
    /// Uploads `mlp`'s weights.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] or a device error.
    pub fn upload_mlp(&self, mlp: &Mlp) -> Result<GpuMlp> {
        let layers = mlp
            .layers
            .iter()
            .map(|l| {
                Ok((
                    self.upload_matrix(&l.weights, l.inputs, l.outputs)?,
                    self.upload(&l.bias)?,
                    l.activation,
                ))
            })
            .collect::<Result<_>>()?;
        Ok(GpuMlp {
            layers,
            inputs: mlp.inputs(),
        })
    }
}

impl GpuMlp {
    /// The forward pass of a `rows × inputs` resident batch: every layer's
    /// fused kernel in one compute pass and one submit; intermediate
    /// activations never leave the device.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] when `x` is not `rows × inputs`,
    /// [`Error::ForeignTensor`], or a device error.
    pub fn forward(&self, x: &GpuTensor) -> Result<GpuTensor> {
        let ctx = &x.ctx;
        let (rows, cols) = x.shape();
        if cols != self.inputs {
            return Err(Error::Shape {
                what: "mlp forward",
                detail: format!(
                    "the batch has {cols} columns; the model takes {}",
                    self.inputs
                ),
            });
        }
        let mut outputs = Vec::with_capacity(self.layers.len());
        for (w, _, _) in &self.layers {
            ctx.same_context(w)?;
            gemm::check_tiles(rows, w.cols)?;
            outputs.push(ctx.alloc(rows, w.cols, "mlp activations")?);
        }
        let mut batch = Batch::new(ctx);
        let mut input = x;
        for ((w, b, act), out) in self.layers.iter().zip(&outputs) {
            ctx.record_gemm(&mut batch, input, w, Some(b), *act, out)?;
            input = out;
        }
        batch.submit()?;
        outputs.pop().ok_or(Error::Empty("mlp"))
    }
}
