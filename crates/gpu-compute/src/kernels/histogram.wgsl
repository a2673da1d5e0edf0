// Histogram of f32 values into `bins` equal bins over [lo, hi), plus
// underflow, overflow and NaN counters after the bins. Per-workgroup atomics,
// then one global atomicAdd per non-empty bin: the counts are exact.

struct Params { n: u32, bins: u32, lo: f32, hi: f32, scale: f32, total_threads: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;

const WG: u32 = 256u;
// MAX_BINS in histogram.rs: bins + 3 counters stay within 16 KiB.
var<workgroup> local_counts: array<atomic<u32>, 4003>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let w = wid.x + wid.y * nwg.x;
    let slots = p.bins + 3u;
    for (var b = li; b < slots; b += WG) { atomicStore(&local_counts[b], 0u); }
    workgroupBarrier();
    for (var i = w * WG + li; i < p.n; i += p.total_threads) {
        let v = x[i];
        let bits = bitcast<u32>(v);
        let mag = bits & 0x7fffffffu;
        var slot: u32;
        if (mag > 0x7f800000u) {
            slot = p.bins + 2u;
        } else if (mag == 0x7f800000u) {
            slot = select(p.bins + 1u, p.bins, (bits >> 31u) == 1u);
        } else if (v < p.lo) {
            slot = p.bins;
        } else if (v >= p.hi) {
            slot = p.bins + 1u;
        } else {
            slot = min(u32(floor((v - p.lo) * p.scale)), p.bins - 1u);
        }
        atomicAdd(&local_counts[slot], 1u);
    }
    workgroupBarrier();
    for (var b = li; b < slots; b += WG) {
        let c = atomicLoad(&local_counts[b]);
        if (c > 0u) { atomicAdd(&counts[b], c); }
    }
}
