//! gpu-compute's batched MLP forward against ml-inference's tract on the
//! same weights: one ONNX model built here, its weights handed to both
//! crates (which stay independent of each other).

use std::sync::Arc;

use ndarray::{Array2, ArrayD};
use novacron_gpu_compute::{Activation, AdapterPolicy, ContextConfig, GpuContext, Layer, Mlp};
use novacron_ml_inference::{Engine, EngineConfig, ModelSource, Request};
use prost::Message;
use tract_onnx::pb;

/// A deterministic weight vector in [-scale, scale).
fn weights(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

fn tensor(name: &str, dims: &[usize], data: &[f32]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: 1,
        raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn value_info(name: &str, width: usize) -> pb::ValueInfoProto {
    use pb::tensor_shape_proto::{Dimension, dimension::Value};
    let dim = |v| Dimension {
        value: Some(v),
        ..Default::default()
    };
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: 1,
                shape: Some(pb::TensorShapeProto {
                    dim: vec![
                        dim(Value::DimParam("N".into())),
                        dim(Value::DimValue(width as i64)),
                    ],
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], output: &str) -> pb::NodeProto {
    pb::NodeProto {
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        ..Default::default()
    }
}

/// `sizes[0] → … → sizes[last]`: MatMul + Add + Relu per hidden layer,
/// MatMul + Add + Sigmoid at the end. Returns the ONNX bytes and our layers.
fn model(sizes: &[usize]) -> (Vec<u8>, Vec<Layer>) {
    let (mut nodes, mut inits, mut layers) = (Vec::new(), Vec::new(), Vec::new());
    let mut input = "x".to_string();
    for (i, w) in sizes.windows(2).enumerate() {
        let last = i + 2 == sizes.len();
        let (wn, bn) = (format!("w{i}"), format!("b{i}"));
        let w_data = weights(w[0] * w[1], i as u64 + 1, (1.0 / w[0] as f32).sqrt() * 1.7);
        let b_data = weights(w[1], i as u64 + 100, 0.1);
        inits.push(tensor(&wn, &[w[0], w[1]], &w_data));
        inits.push(tensor(&bn, &[w[1]], &b_data));
        let (mm, add, out) = (
            format!("mm{i}"),
            format!("add{i}"),
            if last { "y".into() } else { format!("h{i}") },
        );
        nodes.push(node("MatMul", &[&input, &wn], &mm));
        nodes.push(node("Add", &[&mm, &bn], &add));
        nodes.push(node(if last { "Sigmoid" } else { "Relu" }, &[&add], &out));
        let act = if last {
            Activation::Sigmoid
        } else {
            Activation::Relu
        };
        layers.push(Layer::new(w_data, b_data, w[0], w[1], act).expect("shapes match"));
        input = out;
    }
    let proto = pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        graph: Some(pb::GraphProto {
            name: "mlp".into(),
            node: nodes,
            initializer: inits,
            input: vec![value_info("x", sizes[0])],
            output: vec![value_info("y", sizes[sizes.len() - 1])],
            ..Default::default()
        }),
        ..Default::default()
    };
    (proto.encode_to_vec(), layers)
}

#[test]
fn a_gpu_mlp_forward_equals_tract_on_the_same_weights_within_1e_5_relative() {
    let ctx = match GpuContext::new(ContextConfig::default().adapter(AdapterPolicy::AllowSoftware))
    {
        Ok(ctx) => ctx,
        Err(e) => {
            assert!(
                std::env::var("NOVACRON_SKIP_GPU").is_ok_and(|v| v == "1"),
                "no wgpu adapter ({e}); install mesa-vulkan-drivers or set NOVACRON_SKIP_GPU=1"
            );
            eprintln!("skipping as NOVACRON_SKIP_GPU=1 asks: {e}");
            return;
        }
    };
    // The anomaly scorer's shape: 110 features, two hidden layers, one score.
    let sizes = [110, 64, 32, 1];
    let (onnx, layers) = model(&sizes);
    let engine = Engine::new(EngineConfig::default().budget_bytes(64 << 20)).unwrap();
    engine
        .register("mlp", ModelSource::bytes(Arc::<[u8]>::from(onnx)))
        .unwrap();
    let mlp = Mlp::new(layers).unwrap();
    let resident = ctx.upload_mlp(&mlp).unwrap();
    for rows in [1, 63, 65, 257] {
        let x = weights(rows * sizes[0], rows as u64 + 7, 3.0);
        let batch = Array2::from_shape_vec((rows, sizes[0]), x.clone())
            .unwrap()
            .into_dyn();
        let tract = engine
            .infer(Request::tensors(vec![batch]).model("mlp"))
            .unwrap();
        let want: &ArrayD<f32> = &tract.outputs[0];
        let got = resident
            .forward(&ctx.upload_matrix(&x, rows, sizes[0]).unwrap())
            .unwrap()
            .to_vec()
            .unwrap();
        assert_eq!(got.len(), want.len());
        let mut worst = 0.0f32;
        for (g, w) in got.iter().zip(want.iter()) {
            let rel = (g - w).abs() / w.abs().max(1e-6);
            worst = worst.max(rel);
        }
        assert!(
            worst <= 1e-5,
            "rows = {rows}: worst relative difference {worst}"
        );
        // The scores are not all alike (the test would pass on a constant).
        let spread = got.iter().cloned().fold(f32::MIN, f32::max)
            - got.iter().cloned().fold(f32::MAX, f32::min);
        assert!(rows == 1 || spread > 0.05, "rows = {rows}: spread {spread}");
    }
}
