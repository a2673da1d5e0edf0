// The same partials as reduce.wgsl (after reduce_common.wgsl), combined
// with subgroup operations: one shared slot per subgroup, whatever the
// subgroup size (4…64 lanes give 64…4 slots). Compiled only where the
// device has Features::SUBGROUP.

var<workgroup> s_sum: array<f32, 64>;
var<workgroup> s_dsum: array<f32, 64>;
var<workgroup> s_dsq: array<f32, 64>;
var<workgroup> s_min: array<f32, 64>;
var<workgroup> s_max: array<f32, 64>;
var<workgroup> s_nan: array<u32, 64>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_size) sg_size: u32,
        @builtin(subgroup_invocation_id) sg_lane: u32) {
    let w = wid.x + wid.y * nwg.x;
    let a = accumulate(w, li);
    let sum = subgroupAdd(a.sum);
    let dsum = subgroupAdd(a.dsum);
    let dsq = subgroupAdd(a.dsq);
    let mn = subgroupMin(a.mn);
    let mx = subgroupMax(a.mx);
    let nan = subgroupAdd(a.nan);
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
