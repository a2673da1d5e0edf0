// The same partials as reduce.wgsl, combined with subgroup operations: one
// shared slot per subgroup, whatever the subgroup size (4…64 lanes give
// 64…4 slots). Compiled only where the device has Features::SUBGROUP.

struct Params { n: u32, total_threads: u32, pos_inf: f32, pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

const WG: u32 = 256u;

var<workgroup> s_sum: array<f32, 64>;
var<workgroup> s_dsum: array<f32, 64>;
var<workgroup> s_dsq: array<f32, 64>;
var<workgroup> s_min: array<f32, 64>;
var<workgroup> s_max: array<f32, 64>;
var<workgroup> s_nan: array<u32, 64>;

fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_size) sg_size: u32,
        @builtin(subgroup_invocation_id) sg_lane: u32) {
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
    sum = subgroupAdd(sum);
    dsum = subgroupAdd(dsum);
    dsq = subgroupAdd(dsq);
    mn = subgroupMin(mn);
    mx = subgroupMax(mx);
    nan = subgroupAdd(nan);
    let slot = li / sg_size;
    if (sg_lane == 0u) {
        s_sum[slot] = sum; s_dsum[slot] = dsum; s_dsq[slot] = dsq;
        s_min[slot] = mn; s_max[slot] = mx; s_nan[slot] = nan;
    }
    workgroupBarrier();
    if (li == 0u) {
        let slots = WG / sg_size;
        var a = s_sum[0]; var b = s_dsum[0]; var c = s_dsq[0];
        var lo = s_min[0]; var hi = s_max[0]; var k = s_nan[0];
        for (var s = 1u; s < slots; s++) {
            a += s_sum[s]; b += s_dsum[s]; c += s_dsq[s];
            lo = min(lo, s_min[s]); hi = max(hi, s_max[s]); k += s_nan[s];
        }
        let o = w * 8u;
        partials[o] = a; partials[o + 1u] = b; partials[o + 2u] = c;
        partials[o + 3u] = lo; partials[o + 4u] = hi;
        partials[o + 5u] = bitcast<f32>(k);
    }
}
