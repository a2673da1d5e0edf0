//! Helpers shared by the crate's tests: model paths and generated models.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use prost::Message;
use tract_onnx::pb;

/// A committed model by file stem.
pub fn model_path(stem: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(format!("{stem}.onnx"))
}

/// A committed model's bytes.
pub fn model_bytes(stem: &str) -> Vec<u8> {
    std::fs::read(model_path(stem)).expect("committed model")
}

fn value_info(name: &str, dims: &[pb::tensor_shape_proto::dimension::Value]) -> pb::ValueInfoProto {
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: 1,
                shape: Some(pb::TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| pb::tensor_shape_proto::Dimension {
                            value: Some(d.clone()),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An ONNX model `y[N,k] = x[N,k] · W` with a `k × k` f32 weight filled from
/// `seed` (so models of one size are distinct): `4·k²` bytes of weights.
pub fn matmul_model(k: usize, seed: u32) -> Vec<u8> {
    use pb::tensor_shape_proto::dimension::Value as D;
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut raw = Vec::with_capacity(k * k * 4);
    for _ in 0..k * k {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let v = (state as f32 / u32::MAX as f32 - 0.5) * 0.01;
        raw.extend_from_slice(&v.to_le_bytes());
    }
    let model = pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        graph: Some(pb::GraphProto {
            name: "matmul".into(),
            node: vec![pb::NodeProto {
                op_type: "MatMul".into(),
                input: vec!["x".into(), "w".into()],
                output: vec!["y".into()],
                ..Default::default()
            }],
            initializer: vec![pb::TensorProto {
                name: "w".into(),
                dims: vec![k as i64, k as i64],
                data_type: 1,
                raw_data: raw,
                ..Default::default()
            }],
            input: vec![value_info(
                "x",
                &[D::DimParam("N".into()), D::DimValue(k as i64)],
            )],
            output: vec![value_info(
                "y",
                &[D::DimParam("N".into()), D::DimValue(k as i64)],
            )],
            ..Default::default()
        }),
        ..Default::default()
    };
    model.encode_to_vec()
}

/// This process's resident and peak resident set, bytes (`VmRSS`, `VmHWM`).
pub fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .expect("field")
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets `VmHWM` to the current RSS (Linux `clear_refs` 5).
pub fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").expect("clear_refs");
}
