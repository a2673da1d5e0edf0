// Shared by reduce.wgsl and reduce_subgroup.wgsl (concatenated in front of
// each by reduce.rs): the parameters, the bindings, and each thread's pass
// over its grid-stride elements.

struct Params { n: u32, total_threads: u32, pos_inf: f32, pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

const WG: u32 = 256u;

fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }

struct Acc { sum: f32, dsum: f32, dsq: f32, mn: f32, mx: f32, nan: u32 }

// One thread's sums (plain, and about a shift for the variance), extremes
// and NaN count. Sums of squares are taken about the first element when it
// is finite (about 0 otherwise), which keeps the variance accurate far
// from 0.
fn accumulate(w: u32, li: u32) -> Acc {
    var a = Acc(0.0, 0.0, 0.0, p.pos_inf, -p.pos_inf, 0u);
    let first = x[0];
    let shift = select(0.0, first, (bitcast<u32>(first) & 0x7f800000u) != 0x7f800000u);
    for (var i = w * WG + li; i < p.n; i += p.total_threads) {
        let v = x[i];
        if (is_nan(v)) {
            a.nan += 1u;
        } else {
            a.sum += v;
            let d = v - shift;
            a.dsum += d;
            a.dsq += d * d;
            a.mn = min(a.mn, v);
            a.mx = max(a.mx, v);
        }
    }
    return a;
}
