// Elementwise kernels: out[i] = f(x[i], y[i]) by op code (see elementwise.rs).
// NaN is detected by its bits: WGSL lets compilers assume NaN never occurs
// in comparisons, so `v != v` cannot be trusted.

struct Params { n: u32, op: u32, a: f32, total_threads: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;

fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }

fn activate(v: f32, op: u32) -> f32 {
    if (is_nan(v)) { return v; }
    switch op {
        case 3u: { return max(v, 0.0); }
        case 4u: { return 1.0 / (1.0 + exp(-clamp(v, -80.0, 80.0))); }
        case 5u: { return tanh(clamp(v, -15.0, 15.0)); }
        default: { return v; }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let w = wid.x + wid.y * nwg.x;
    for (var i = w * WG + li; i < p.n; i += p.total_threads) {
        switch p.op {
            case 0u: { out[i] = p.a * x[i] + y[i]; }
            case 1u: { out[i] = x[i] + y[i]; }
            case 2u: { out[i] = p.a * x[i]; }
            default: { out[i] = activate(x[i], p.op); }
        }
    }
}
