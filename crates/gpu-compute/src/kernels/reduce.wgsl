// Stats partials, one per workgroup: sum, shifted sum and sum of squares
// (for the variance), min, max, NaN count. Shared-memory tree.
// The host combines the partials in f64 (reduce.rs).

struct Params { n: u32, total_threads: u32, pos_inf: f32, pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

const WG: u32 = 256u;

var<workgroup> s_sum: array<f32, 256>;
var<workgroup> s_dsum: array<f32, 256>;
var<workgroup> s_dsq: array<f32, 256>;
var<workgroup> s_min: array<f32, 256>;
var<workgroup> s_max: array<f32, 256>;
var<workgroup> s_nan: array<u32, 256>;

fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let w = wid.x + wid.y * nwg.x;
    var sum = 0.0;
    var dsum = 0.0;
    var dsq = 0.0;
    var mn = p.pos_inf;
    var mx = -p.pos_inf;
    var nan = 0u;
    // Sums of squares are taken about the first element when it is finite
    // (about 0 otherwise), which keeps the variance accurate far from 0.
    let first = x[0];
    let shift = select(0.0, first, (bitcast<u32>(first) & 0x7f800000u) != 0x7f800000u);
    for (var i = w * WG + li; i < p.n; i += p.total_threads) {
        let v = x[i];
        if (is_nan(v)) {
            nan += 1u;
        } else {
            sum += v;
            let d = v - shift;
            dsum += d;
            dsq += d * d;
            mn = min(mn, v);
            mx = max(mx, v);
        }
    }
    s_sum[li] = sum; s_dsum[li] = dsum; s_dsq[li] = dsq; s_min[li] = mn; s_max[li] = mx; s_nan[li] = nan;
    workgroupBarrier();
    for (var off = WG / 2u; off > 0u; off >>= 1u) {
        if (li < off) {
            s_sum[li] += s_sum[li + off];
            s_dsum[li] += s_dsum[li + off];
            s_dsq[li] += s_dsq[li + off];
            s_min[li] = min(s_min[li], s_min[li + off]);
            s_max[li] = max(s_max[li], s_max[li + off]);
            s_nan[li] += s_nan[li + off];
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        let o = w * 8u;
        partials[o] = s_sum[0]; partials[o + 1u] = s_dsum[0]; partials[o + 2u] = s_dsq[0];
        partials[o + 3u] = s_min[0]; partials[o + 4u] = s_max[0];
        partials[o + 5u] = bitcast<f32>(s_nan[0]);
    }
}
