// Register-tiled SGEMM with a fused epilogue: C = act(A · B + bias).
// A is M × K, B is K × N, C is M × N, all row-major. A 16 × 16 workgroup
// computes a 64 × 64 tile of C, each thread 4 × 4 outputs in registers, over
// K in steps of 16 staged through shared memory (8 KiB). Every global load
// and store is bounds-checked, so any M, N, K works.

struct Params { m: u32, n: u32, k: u32, flags: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

const TILE: u32 = 64u;
const BK: u32 = 16u;

// As[kk * 64 + m] (A transposed), Bs[kk * 64 + n].
var<workgroup> As: array<f32, 1024>;
var<workgroup> Bs: array<f32, 1024>;

fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }

fn activate(v: f32, act: u32) -> f32 {
    if (is_nan(v)) { return v; }
    switch act {
        case 1u: { return max(v, 0.0); }
        case 2u: { return 1.0 / (1.0 + exp(-clamp(v, -80.0, 80.0))); }
        case 3u: { return tanh(clamp(v, -15.0, 15.0)); }
        default: { return v; }
    }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let tx = lid.x;
    let ty = lid.y;
    let t = ty * 16u + tx;
    let row0 = wid.y * TILE;
    let col0 = wid.x * TILE;
    var acc: array<f32, 16>;
    for (var q = 0u; q < 16u; q++) { acc[q] = 0.0; }
    var ar: array<f32, 4>;
    var br: array<f32, 4>;
    for (var k0 = 0u; k0 < p.k; k0 += BK) {
        for (var r = 0u; r < 4u; r++) {
            let e = t + r * 256u;
            // A: 64 rows × 16 columns of k.
            let am = e / BK;
            let ak = e % BK;
            let gr = row0 + am;
            let gk = k0 + ak;
            var av = 0.0;
            if (gr < p.m && gk < p.k) { av = a[gr * p.k + gk]; }
            As[ak * TILE + am] = av;
            // B: 16 rows of k × 64 columns.
            let bk = e / TILE;
            let bn = e % TILE;
            let gbk = k0 + bk;
            let gc = col0 + bn;
            var bv = 0.0;
            if (gbk < p.k && gc < p.n) { bv = b[gbk * p.n + gc]; }
            Bs[bk * TILE + bn] = bv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            for (var i = 0u; i < 4u; i++) { ar[i] = As[kk * TILE + ty + 16u * i]; }
            for (var j = 0u; j < 4u; j++) { br[j] = Bs[kk * TILE + tx + 16u * j]; }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i * 4u + j] = fma(ar[i], br[j], acc[i * 4u + j]);
                }
            }
        }
        workgroupBarrier();
    }
    let has_bias = (p.flags & 1u) != 0u;
    let act = p.flags >> 8u;
    for (var i = 0u; i < 4u; i++) {
        let r = row0 + ty + 16u * i;
        if (r >= p.m) { continue; }
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + tx + 16u * j;
            if (col >= p.n) { continue; }
            var v = acc[i * 4u + j];
            if (has_bias) { v += bias[col]; }
            c[r * p.n + col] = activate(v, act);
        }
    }
}
