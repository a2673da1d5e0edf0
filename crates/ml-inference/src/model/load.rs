//! Parsing, typing and planning on tract, every call under `catch_unwind`,
//! with the guards that refuse hostile graphs before they allocate.

use super::*;
use std::fmt;
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};

use tract_onnx::prelude::{
    Datum, Framework, InferenceFact, InferenceModel, InferenceModelExt, TDim, TypedModel,
    TypedSimplePlan,
};
use tract_onnx::tract_core::model::IntoRunnable;
use tract_onnx::tract_core::ops::konst::Const;
use tract_onnx::tract_hir::infer::Factoid;

use crate::error::{Error, Result};

pub(super) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Runs `f`, turning a panic into [`Error::EnginePanic`].
pub(super) fn guarded<T>(model: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(Error::EnginePanic {
            model: model.to_string(),
            cause: panic_message(&*p),
        }),
    }
}

pub(super) fn onnx() -> &'static tract_onnx::Onnx {
    static ONNX: OnceLock<tract_onnx::Onnx> = OnceLock::new();
    ONNX.get_or_init(tract_onnx::onnx)
}

pub(super) const RECURRENT_OPS: [&str; 4] = ["LSTM", "GRU", "RNN", "Scan"];

/// Bytes of the graph's constant tensors (its weights), as parsed.
pub(super) fn weight_bytes(model: &InferenceModel) -> u64 {
    model
        .nodes()
        .iter()
        .filter_map(|n| n.op_as::<Const>())
        .map(|k| (k.val().len() * k.val().datum_type().size_of()) as u64)
        .sum()
}

/// Refuses constants the graph would materialize while it is typed
/// (`ConstantOfShape`, `Expand` or `Tile` of constant inputs) when they are
/// larger than `limit` bytes: a 300-byte file can ask for terabytes.
pub(super) fn check_folded_sizes(model: &InferenceModel, limit: u64) -> Result<()> {
    let values = |outlet: Option<&tract_onnx::prelude::OutletId>| -> Option<Vec<i64>> {
        let k = model.node(outlet?.node).op_as::<Const>()?;
        let t = k.val().cast_to::<i64>().ok()?;
        let v = t.to_plain_array_view::<i64>().ok()?;
        Some(v.iter().copied().collect())
    };
    let product = |v: &[i64]| {
        v.iter().fold(1u64, |acc, &d| {
            acc.saturating_mul(u64::try_from(d).unwrap_or(0))
        })
    };
    for node in model.nodes() {
        let elems = match node.op.name().as_ref() {
            "ConstantOfShape" => values(node.inputs.first()).map(|v| product(&v)),
            "Expand" => values(node.inputs.get(1)).map(|v| product(&v)),
            "Tile" => {
                let repeats = values(node.inputs.get(1)).map(|v| product(&v));
                let input = node
                    .inputs
                    .first()
                    .and_then(|o| model.node(o.node).op_as::<Const>())
                    .map(|k| k.val().len() as u64);
                repeats.zip(input).map(|(r, n)| r.saturating_mul(n))
            }
            _ => None,
        };
        if let Some(bytes) = elems.map(|e| e.saturating_mul(8))
            && bytes > limit
        {
            return Err(Error::OverBudget {
                requested: bytes,
                available: limit,
                budget: limit,
                what: "a constant the model materializes while loading",
            });
        }
    }
    Ok(())
}

/// Parses the graph; returns it and whether it has recurrent operators.
pub(super) fn parse(name: &str, bytes: &[u8], limit: u64) -> Result<(InferenceModel, bool)> {
    guarded(name, || {
        let model = onnx()
            .model_for_read(&mut Cursor::new(bytes))
            .map_err(|e| Error::Corrupt {
                model: name.to_string(),
                cause: format!("{e:#}"),
            })?;
        let mut recurrent = false;
        for node in model.nodes() {
            let op = node.op.name();
            if let Some(inner) = op.strip_prefix("Unimplemented(") {
                return Err(Error::UnsupportedOperator {
                    model: name.to_string(),
                    op: inner.trim_end_matches(')').to_string(),
                });
            }
            recurrent |= RECURRENT_OPS.iter().any(|r| op.contains(r));
        }
        check_folded_sizes(&model, limit)?;
        Ok((model, recurrent))
    })
}

/// Types the graph with the batch symbol (if any) pinned to `batch` on every input.
pub(super) fn typed(
    name: &str,
    mut model: InferenceModel,
    pin: Option<(&str, usize)>,
) -> Result<TypedModel> {
    guarded(name, move || {
        if let Some((sym, batch)) = pin {
            for ix in 0..model.inputs.len() {
                let fact = model.input_fact(ix).map_err(|e| load_err(name, &e))?;
                let dt = fact.datum_type.concretize().unwrap_or(f32::datum_type());
                let Some(shape) = fact.shape.concretize() else {
                    continue;
                };
                let dims: Vec<TDim> = shape
                    .iter()
                    .map(|d| {
                        if d.to_i64().is_err() && d.to_string() == sym {
                            TDim::Val(batch as i64)
                        } else {
                            d.clone()
                        }
                    })
                    .collect();
                model
                    .set_input_fact(ix, InferenceFact::dt_shape(dt, dims))
                    .map_err(|e| load_err(name, &e))?;
            }
        }
        model.into_typed().map_err(|e| load_err(name, &e))
    })
}

/// Optimizes a typed graph into a runnable plan.
pub(super) fn plan_of(name: &str, typed: TypedModel) -> Result<Arc<TypedSimplePlan>> {
    guarded(name, move || {
        let optimized = typed.into_optimized().map_err(|e| load_err(name, &e))?;
        optimized.into_runnable().map_err(|e| load_err(name, &e))
    })
}

/// A batch no model has: typing with it shows which output axes carry the batch.
pub(super) const SENTINEL_BATCH: usize = 7919;

pub(super) fn dims_of(shape: &[TDim], batch_symbol: Option<&str>) -> Vec<Dim> {
    shape
        .iter()
        .map(|d| match d.to_i64() {
            Ok(v) => Dim::Fixed(usize::try_from(v).unwrap_or(0)),
            Err(_) => {
                let s = d.to_string();
                if Some(s.as_str()) == batch_symbol {
                    Dim::Batch
                } else {
                    Dim::Free(s)
                }
            }
        })
        .collect()
}

pub(super) fn load_err(model: &str, e: &dyn fmt::Display) -> Error {
    Error::Load {
        model: model.to_string(),
        cause: format!("{e:#}"),
    }
}
