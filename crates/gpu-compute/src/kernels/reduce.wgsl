// Stats partials, one per workgroup (after reduce_common.wgsl): sum,
// shifted sum and sum of squares (for the variance), min, max, NaN count,
// combined by a shared-memory tree. The host combines the partials in f64.

var<workgroup> s_sum: array<f32, 256>;
var<workgroup> s_dsum: array<f32, 256>;
var<workgroup> s_dsq: array<f32, 256>;
var<workgroup> s_min: array<f32, 256>;
var<workgroup> s_max: array<f32, 256>;
var<workgroup> s_nan: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let w = wid.x + wid.y * nwg.x;
    let a = accumulate(w, li);
    s_sum[li] = a.sum; s_dsum[li] = a.dsum; s_dsq[li] = a.dsq; s_min[li] = a.mn; s_max[li] = a.mx; s_nan[li] = a.nan;
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
