// Bitonic sort of f32 values by their total order (f32::total_cmp):
// values become order-preserving u32 keys, blocks of 512 keys sort in
// shared memory, longer merges run one global step per dispatch, and the
// keys become values again. Padding keys (0xffffffff) sort last.

struct Params { n: u32, padded: u32, k: u32, j: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> keys: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

const WG: u32 = 256u;
const BLOCK: u32 = 512u;

var<workgroup> block: array<u32, 512>;

fn linear(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + wid.y * nwg.x; }

@compute @workgroup_size(256)
fn to_keys(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) li: u32) {
    let i = linear(wid, nwg) * WG + li;
    if (i >= p.padded) { return; }
    if (i < p.n) {
        let b = bitcast<u32>(src[i]);
        keys[i] = select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
    } else {
        keys[i] = 0xffffffffu;
    }
}

@compute @workgroup_size(256)
fn from_keys(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) li: u32) {
    let i = linear(wid, nwg) * WG + li;
    if (i >= p.n) { return; }
    let k = keys[i];
    dst[i] = bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

fn compare_swap_local(base: u32, t: u32, j: u32, k: u32) {
    let i = 2u * j * (t / j) + (t % j);
    let l = i + j;
    let ascending = ((base + i) & k) == 0u;
    let a = block[i];
    let b = block[l];
    if ((a > b) == ascending) {
        block[i] = b;
        block[l] = a;
    }
}

// Sorts each block of 512 keys completely (k = 2 … 512); directions
// alternate between blocks so that pairs form bitonic runs of 1024.
@compute @workgroup_size(256)
fn sort_blocks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) li: u32) {
    let base = linear(wid, nwg) * BLOCK;
    if (base >= p.padded) { return; }
    block[li] = keys[base + li];
    block[li + WG] = keys[base + li + WG];
    for (var k = 2u; k <= BLOCK; k <<= 1u) {
        for (var j = k >> 1u; j > 0u; j >>= 1u) {
            workgroupBarrier();
            compare_swap_local(base, li, j, k);
        }
    }
    workgroupBarrier();
    keys[base + li] = block[li];
    keys[base + li + WG] = block[li + WG];
}

// One step (k, j ≥ 512) of the merge network over the whole array.
@compute @workgroup_size(256)
fn merge_global(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) li: u32) {
    let t = linear(wid, nwg) * WG + li;
    if (t >= p.padded / 2u) { return; }
    let j = p.j;
    let i = 2u * j * (t / j) + (t % j);
    let l = i + j;
    let ascending = (i & p.k) == 0u;
    let a = keys[i];
    let b = keys[l];
    if ((a > b) == ascending) {
        keys[i] = b;
        keys[l] = a;
    }
}

// The steps j = 256 … 1 of merge stage k, inside each block of 512.
@compute @workgroup_size(256)
fn merge_blocks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) li: u32) {
    let base = linear(wid, nwg) * BLOCK;
    if (base >= p.padded) { return; }
    block[li] = keys[base + li];
    block[li + WG] = keys[base + li + WG];
    for (var j = BLOCK >> 1u; j > 0u; j >>= 1u) {
        workgroupBarrier();
        compare_swap_local(base, li, j, p.k);
    }
    workgroupBarrier();
    keys[base + li] = block[li];
    keys[base + li + WG] = block[li + WG];
}
