//! The form samplers search: a binary `f64` model with dense or sparse rows,
//! and the one-flip local state every heuristic shares.

use crate::coef::Coefficient;
use crate::{Bqm, Error, Storage, Vartype};

/// A binary model in `f64` (exact for integer coefficients below 2⁵³).
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub(crate) n: usize,
    pub(crate) linear: Vec<f64>,
    pub(crate) offset: f64,
    pub(crate) adj: Adjacency,
    /// The original model was Ising: states convert back with `s = 2x - 1`.
    pub(crate) spin: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Adjacency {
    Sparse(Csr),
    Dense(Dense),
}

/// Compressed sparse rows, both directions of every pair.
#[derive(Debug, Clone)]
pub(crate) struct Csr {
    start: Vec<usize>,
    /// `(neighbour, bias)` pairs, interleaved so one cache line serves both.
    entries: Vec<(u32, f64)>,
}

/// A row-major `n × n` matrix with a zero diagonal.
#[derive(Debug, Clone)]
pub(crate) struct Dense {
    n: usize,
    w: Vec<f64>,
}

/// Row access shared by both storages; samplers are generic over it so each
/// storage gets its own monomorphized inner loop.
pub(crate) trait Rows: Sync {
    /// `field[j] += scale · b_kj` for every neighbour `j` of `k`.
    fn add_row(&self, k: usize, scale: f64, field: &mut [f64]);
    /// `Σⱼ |b_kj|` and the smallest non-zero `|b_kj|` of row `k`.
    fn row_stats(&self, k: usize) -> (f64, f64);
}

impl Rows for Csr {
    #[inline]
    fn add_row(&self, k: usize, scale: f64, field: &mut [f64]) {
        for &(j, w) in &self.entries[self.start[k]..self.start[k + 1]] {
            if let Some(f) = field.get_mut(j as usize) {
                *f += scale * w;
            }
        }
    }
    fn row_stats(&self, k: usize) -> (f64, f64) {
        let row = &self.entries[self.start[k]..self.start[k + 1]];
        row.iter()
            .fold((0.0, f64::INFINITY), |(sum, min), &(_, w)| {
                let a = w.abs();
                (sum + a, if a > 0.0 { min.min(a) } else { min })
            })
    }
}

impl Rows for Dense {
    #[inline]
    fn add_row(&self, k: usize, scale: f64, field: &mut [f64]) {
        let row = &self.w[k * self.n..(k + 1) * self.n];
        for (f, &w) in field.iter_mut().zip(row) {
            *f += scale * w;
        }
    }
    fn row_stats(&self, k: usize) -> (f64, f64) {
        stats(&self.w[k * self.n..(k + 1) * self.n])
    }
}

fn stats(row: &[f64]) -> (f64, f64) {
    row.iter().fold((0.0, f64::INFINITY), |(sum, min), &w| {
        let a = w.abs();
        (sum + a, if a > 0.0 { min.min(a) } else { min })
    })
}

/// Runs `$body` with `$rows` bound to the problem's concrete row storage.
macro_rules! with_rows {
    ($problem:expr, $rows:ident => $body:expr) => {
        match &$problem.adj {
            $crate::compiled::Adjacency::Sparse($rows) => $body,
            $crate::compiled::Adjacency::Dense($rows) => $body,
        }
    };
}
pub(crate) use with_rows;

impl Problem {
    /// Compiles any model (spin models are converted to binary in `f64`).
    pub(crate) fn new<T: Coefficient>(bqm: &Bqm<T>) -> Result<Problem, Error> {
        let spin = bqm.vartype() == Vartype::Spin;
        let binary = bqm.to_f64().to_qubo()?;
        let n = binary.num_variables();
        let adj = match binary.preferred_storage() {
            Storage::Dense => {
                let mut w = vec![0.0; n * n];
                for (i, j, b) in binary.interactions() {
                    w[i * n + j] = b;
                    w[j * n + i] = b;
                }
                Adjacency::Dense(Dense { n, w })
            }
            Storage::Sparse => {
                let mut start = Vec::with_capacity(n + 1);
                let mut entries = Vec::with_capacity(2 * binary.num_interactions());
                start.push(0);
                for i in 0..n {
                    entries.extend(binary.neighbors(i)?.map(|(j, b)| (j as u32, b)));
                    start.push(entries.len());
                }
                Adjacency::Sparse(Csr { start, entries })
            }
        };
        Ok(Problem {
            n,
            linear: binary.linear_biases().to_vec(),
            offset: binary.offset(),
            adj,
            spin,
        })
    }

    /// Per variable: the largest possible |Δ| of one flip and the smallest non-zero one.
    pub(crate) fn delta_bounds(&self) -> Vec<(f64, f64)> {
        with_rows!(self, rows => (0..self.n)
            .map(|i| {
                let (sum, min) = rows.row_stats(i);
                let a = self.linear[i].abs();
                let min = if a > 0.0 { min.min(a) } else { min };
                (a + sum, min)
            })
            .collect())
    }

    /// Converts an internal binary state to the caller's vartype.
    pub(crate) fn export(&self, x: &[u8]) -> Vec<i8> {
        x.iter()
            .map(|&v| if self.spin { 2 * v as i8 - 1 } else { v as i8 })
            .collect()
    }
}

/// A binary state with its local fields `fᵢ = aᵢ + Σⱼ bᵢⱼ xⱼ` and energy.
#[derive(Debug, Clone)]
pub(crate) struct Local {
    pub(crate) x: Vec<u8>,
    pub(crate) field: Vec<f64>,
    pub(crate) energy: f64,
}

impl Local {
    pub(crate) fn new<R: Rows>(p: &Problem, rows: &R, x: Vec<u8>) -> Local {
        let mut field = p.linear.clone();
        let mut energy = p.offset;
        for (i, &xi) in x.iter().enumerate() {
            if xi == 1 {
                energy += p.linear[i];
                rows.add_row(i, 1.0, &mut field);
            }
        }
        // Σ_{i<j} b x x = ½ Σᵢ xᵢ (fᵢ - aᵢ).
        let quad: f64 = x
            .iter()
            .zip(field.iter().zip(&p.linear))
            .filter(|&(&xi, _)| xi == 1)
            .map(|(_, (f, a))| f - a)
            .sum();
        energy += quad / 2.0;
        Local { x, field, energy }
    }

    /// Energy change if `i` flipped.
    #[inline(always)]
    pub(crate) fn delta(&self, i: usize) -> f64 {
        // Branch-free: at high temperature x is random and a branch mispredicts.
        (1.0 - 2.0 * f64::from(self.x[i])) * self.field[i]
    }

    /// Flips `i`, given its current delta.
    #[inline(always)]
    pub(crate) fn flip<R: Rows>(&mut self, rows: &R, i: usize, delta: f64) {
        let scale = 1.0 - 2.0 * f64::from(self.x[i]);
        self.x[i] ^= 1;
        self.energy += delta;
        rows.add_row(i, scale, &mut self.field);
    }

    /// Steepest descent to a one-flip local minimum.
    pub(crate) fn descend<R: Rows>(&mut self, rows: &R) {
        loop {
            let (mut best, mut arg) = (-1e-12, usize::MAX);
            for i in 0..self.x.len() {
                let d = self.delta(i);
                if d < best {
                    best = d;
                    arg = i;
                }
            }
            if arg == usize::MAX {
                return;
            }
            self.flip(rows, arg, best);
        }
    }
}
