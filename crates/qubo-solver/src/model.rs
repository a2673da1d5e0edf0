//! The binary quadratic model: variables, biases, offset, energies and vartype conversion.

use std::fmt;

use crate::Error;
use crate::coef::{Coefficient, add};
use crate::error::check_size;

/// The domain of every variable of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Vartype {
    /// `x ∈ {0, 1}` (QUBO).
    Binary,
    /// `s ∈ {-1, +1}` (Ising).
    Spin,
}

impl Vartype {
    /// Whether `value` belongs to the domain.
    pub fn contains(self, value: i8) -> bool {
        match self {
            Vartype::Binary => value == 0 || value == 1,
            Vartype::Spin => value == -1 || value == 1,
        }
    }
}

impl fmt::Display for Vartype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Vartype::Binary => "BINARY",
            Vartype::Spin => "SPIN",
        })
    }
}

/// A binary quadratic model (dimod's `BinaryQuadraticModel`):
/// `E(v) = offset + Σᵢ aᵢ vᵢ + Σ_{i<j} bᵢⱼ vᵢ vⱼ` over `v ∈ {0,1}ⁿ` or `{-1,+1}ⁿ`.
///
/// Variables are `0..n`. Quadratic terms are kept in sorted adjacency lists
/// (both directions), so neighbours of a variable are a slice and one-flip
/// energy deltas update in O(degree) ([`FlipState`](crate::FlipState)). Samplers compile the
/// model into a dense matrix when it is dense (see [`Storage`]) or a
/// compressed sparse row otherwise.
///
/// `T` is `f64` or `i64` ([`Coefficient`]); integer models have exact
/// energies. Every coefficient is checked: NaN, infinities and `i64`
/// overflow are errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Bqm<T: Coefficient = f64> {
    vartype: Vartype,
    linear: Vec<T>,
    adjacency: Vec<Vec<(u32, T)>>,
    offset: T,
    num_interactions: usize,
}

/// How samplers store a model's quadratic terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Storage {
    /// A row-major `n × n` matrix: row updates are contiguous and vectorize.
    Dense,
    /// Compressed sparse rows: memory and work proportional to the interactions.
    Sparse,
}

impl<T: Coefficient> Bqm<T> {
    /// The most variables a model may have: 2²⁶ (about 2 GiB of model
    /// before any quadratic term).
    pub const MAX_VARIABLES: usize = 1 << 26;

    /// An empty model (zero variables; valid, with energy `0`).
    pub fn new(vartype: Vartype) -> Self {
        Bqm {
            vartype,
            linear: Vec::new(),
            adjacency: Vec::new(),
            offset: T::ZERO,
            num_interactions: 0,
        }
    }

    /// A model with `n` variables and no biases.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] above [`Bqm::MAX_VARIABLES`].
    pub fn with_variables(n: usize, vartype: Vartype) -> Result<Self, Error> {
        check_size(
            "the number of variables",
            n as u128,
            Self::MAX_VARIABLES as u64,
        )?;
        Ok(Bqm {
            vartype,
            linear: vec![T::ZERO; n],
            adjacency: vec![Vec::new(); n],
            offset: T::ZERO,
            num_interactions: 0,
        })
    }

    /// The vartype of every variable.
    pub fn vartype(&self) -> Vartype {
        self.vartype
    }

    /// Number of variables `n`.
    pub fn num_variables(&self) -> usize {
        self.linear.len()
    }

    /// Number of quadratic terms (unordered pairs with an entry, zero biases included).
    pub fn num_interactions(&self) -> usize {
        self.num_interactions
    }

    /// Fraction of the `n(n-1)/2` pairs that have a quadratic term (0 for n < 2).
    pub fn density(&self) -> f64 {
        let n = self.num_variables() as f64;
        if n < 2.0 {
            0.0
        } else {
            self.num_interactions as f64 / (n * (n - 1.0) / 2.0)
        }
    }

    /// The storage samplers use for this model: dense from a density of 1/4
    /// up (a contiguous row update then costs less than an indexed one),
    /// sparse below.
    pub fn preferred_storage(&self) -> Storage {
        if self.density() >= 0.25 {
            Storage::Dense
        } else {
            Storage::Sparse
        }
    }

    /// Adds a variable and returns its index.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] when the model already has [`Bqm::MAX_VARIABLES`].
    pub fn add_variable(&mut self) -> Result<usize, Error> {
        check_size(
            "the number of variables",
            self.linear.len() as u128 + 1,
            Self::MAX_VARIABLES as u64,
        )?;
        self.linear.push(T::ZERO);
        self.adjacency.push(Vec::new());
        Ok(self.linear.len() - 1)
    }

    /// The constant term.
    pub fn offset(&self) -> T {
        self.offset
    }

    /// Adds `value` to the constant term.
    pub fn add_offset(&mut self, value: T) -> Result<(), Error> {
        check_finite(value, || "offset".to_string())?;
        self.offset = add(self.offset, value, "the offset")?;
        Ok(())
    }

    /// The linear bias of variable `i`.
    pub fn linear(&self, i: usize) -> Result<T, Error> {
        self.check_index(i)?;
        Ok(self.linear[i])
    }

    /// All linear biases, indexed by variable.
    pub fn linear_biases(&self) -> &[T] {
        &self.linear
    }

    /// Adds `bias` to the linear bias of variable `i`.
    pub fn add_linear(&mut self, i: usize, bias: T) -> Result<(), Error> {
        self.check_index(i)?;
        check_finite(bias, || format!("linear bias of variable {i}"))?;
        self.linear[i] = add(self.linear[i], bias, "a linear bias")?;
        Ok(())
    }

    /// Sets the linear bias of variable `i`.
    pub fn set_linear(&mut self, i: usize, bias: T) -> Result<(), Error> {
        self.check_index(i)?;
        check_finite(bias, || format!("linear bias of variable {i}"))?;
        self.linear[i] = bias;
        Ok(())
    }

    /// The quadratic bias between `i` and `j` (`None` when the pair has no term).
    pub fn quadratic(&self, i: usize, j: usize) -> Result<Option<T>, Error> {
        self.check_pair(i, j)?;
        let row = &self.adjacency[i];
        Ok(row
            .binary_search_by_key(&(j as u32), |&(k, _)| k)
            .ok()
            .map(|pos| row[pos].1))
    }

    /// Adds `bias` to the quadratic term between `i` and `j` (order does not matter).
    pub fn add_quadratic(&mut self, i: usize, j: usize, bias: T) -> Result<(), Error> {
        self.update_quadratic(i, j, bias, true)
    }

    /// Sets the quadratic term between `i` and `j` (order does not matter).
    pub fn set_quadratic(&mut self, i: usize, j: usize, bias: T) -> Result<(), Error> {
        self.update_quadratic(i, j, bias, false)
    }

    fn update_quadratic(
        &mut self,
        i: usize,
        j: usize,
        bias: T,
        accumulate: bool,
    ) -> Result<(), Error> {
        self.check_pair(i, j)?;
        check_finite(bias, || format!("quadratic bias of ({i}, {j})"))?;
        let new = match self.quadratic(i, j)? {
            Some(old) if accumulate => add(old, bias, "a quadratic bias")?,
            _ => bias,
        };
        if self.upsert_pair(i, j, new) {
            self.num_interactions += 1;
        }
        Ok(())
    }

    /// Sets the pair's bias in both rows; true when the pair is new.
    fn upsert_pair(&mut self, i: usize, j: usize, bias: T) -> bool {
        let mut inserted = false;
        for (a, b) in [(i, j), (j, i)] {
            let row = &mut self.adjacency[a];
            match row.binary_search_by_key(&(b as u32), |&(k, _)| k) {
                Ok(pos) => row[pos].1 = bias,
                Err(pos) => {
                    row.insert(pos, (b as u32, bias));
                    inserted = true;
                }
            }
        }
        inserted
    }

    /// The neighbours of `i` with their quadratic biases, sorted by index.
    pub fn neighbors(
        &self,
        i: usize,
    ) -> Result<impl ExactSizeIterator<Item = (usize, T)> + '_, Error> {
        self.check_index(i)?;
        Ok(self.adjacency[i].iter().map(|&(j, b)| (j as usize, b)))
    }

    /// Every quadratic term once, as `(i, j, bias)` with `i < j`, in row order.
    pub fn interactions(&self) -> impl Iterator<Item = (usize, usize, T)> + '_ {
        self.adjacency.iter().enumerate().flat_map(|(i, row)| {
            row.iter()
                .filter(move |&&(j, _)| (j as usize) > i)
                .map(move |&(j, b)| (i, j as usize, b))
        })
    }

    /// The energy of `state` (values in the model's vartype), exact for `i64`.
    pub fn energy(&self, state: &[i8]) -> Result<T, Error> {
        self.check_state(state)?;
        let mut e = self.offset;
        for (i, (&a, &v)) in self.linear.iter().zip(state).enumerate() {
            if v != 0 {
                e = add(e, scale(a, v)?, "the energy")?;
            }
            for &(j, b) in &self.adjacency[i] {
                let j = j as usize;
                if j > i && v != 0 && state[j] != 0 {
                    e = add(e, scale(b, v * state[j])?, "the energy")?;
                }
            }
        }
        Ok(e)
    }

    /// Checks that `state` has one value per variable, each in the vartype.
    pub fn check_state(&self, state: &[i8]) -> Result<(), Error> {
        if state.len() != self.num_variables() {
            return Err(Error::InvalidState {
                reason: format!(
                    "{} values for {} variables; pass one value per variable",
                    state.len(),
                    self.num_variables()
                ),
            });
        }
        if let Some(i) = state.iter().position(|&v| !self.vartype.contains(v)) {
            return Err(Error::InvalidState {
                reason: format!(
                    "value {} of variable {i} is not {}; use {}",
                    state[i],
                    self.vartype,
                    match self.vartype {
                        Vartype::Binary => "0 or 1",
                        Vartype::Spin => "-1 or +1",
                    }
                ),
            });
        }
        Ok(())
    }

    /// The same model over the other vartype, with equal energies on
    /// corresponding states (`s = 2x - 1`), offset included.
    ///
    /// Spin → binary is exact for `i64`; binary → spin divides by 4 and
    /// returns [`Error::InexactConversion`] for `i64` models whose
    /// coefficients are not multiples of 4 (convert with [`Bqm::to_f64`] first).
    pub fn change_vartype(&self, vartype: Vartype) -> Result<Bqm<T>, Error> {
        match (self.vartype, vartype) {
            (a, b) if a == b => Ok(self.clone()),
            (Vartype::Spin, Vartype::Binary) => self.spin_to_binary(),
            _ => self.binary_to_spin(),
        }
    }

    /// The Ising form (`change_vartype(Spin)`).
    pub fn to_ising(&self) -> Result<Bqm<T>, Error> {
        self.change_vartype(Vartype::Spin)
    }

    /// The QUBO form (`change_vartype(Binary)`).
    pub fn to_qubo(&self) -> Result<Bqm<T>, Error> {
        self.change_vartype(Vartype::Binary)
    }

    /// The model with `f64` coefficients.
    pub fn to_f64(&self) -> Bqm<f64> {
        Bqm {
            vartype: self.vartype,
            linear: self.linear.iter().map(|a| a.to_f64()).collect(),
            adjacency: self
                .adjacency
                .iter()
                .map(|row| row.iter().map(|&(j, b)| (j, b.to_f64())).collect())
                .collect(),
            offset: self.offset.to_f64(),
            num_interactions: self.num_interactions,
        }
    }

    // s = 2x - 1: h s + J s s' = h(2x-1) + J(4xx' - 2x - 2x' + 1).
    fn spin_to_binary(&self) -> Result<Bqm<T>, Error> {
        let mut out = Bqm::with_variables(self.num_variables(), Vartype::Binary)?;
        let mut offset = self.offset;
        for (i, &h) in self.linear.iter().enumerate() {
            out.linear[i] = add(out.linear[i], checked_scale(h, 2)?, "the conversion")?;
            offset = add(offset, neg(h)?, "the conversion")?;
        }
        for (i, j, jb) in self.interactions() {
            out.insert_pair_unchecked(i, j, checked_scale(jb, 4)?);
            let m2 = checked_scale(jb, -2)?;
            out.linear[i] = add(out.linear[i], m2, "the conversion")?;
            out.linear[j] = add(out.linear[j], m2, "the conversion")?;
            offset = add(offset, jb, "the conversion")?;
        }
        out.offset = offset;
        Ok(out)
    }

    // x = (s + 1)/2: a x + b x x' = a s/2 + a/2 + b(ss' + s + s' + 1)/4.
    fn binary_to_spin(&self) -> Result<Bqm<T>, Error> {
        let mut out = Bqm::with_variables(self.num_variables(), Vartype::Spin)?;
        // Work in quarters so the division happens once, exactly or not at all.
        let mut offset4 = checked_scale(self.offset, 4)?;
        let mut lin4: Vec<T> = Vec::with_capacity(self.num_variables());
        for &a in &self.linear {
            lin4.push(checked_scale(a, 2)?);
            offset4 = add(offset4, checked_scale(a, 2)?, "the conversion")?;
        }
        for (i, j, b) in self.interactions() {
            out.insert_pair_unchecked(i, j, b.divide_exact(4).ok_or(Error::InexactConversion)?);
            lin4[i] = add(lin4[i], b, "the conversion")?;
            lin4[j] = add(lin4[j], b, "the conversion")?;
            offset4 = add(offset4, b, "the conversion")?;
        }
        for (dst, v) in out.linear.iter_mut().zip(lin4) {
            *dst = v.divide_exact(4).ok_or(Error::InexactConversion)?;
        }
        out.offset = offset4.divide_exact(4).ok_or(Error::InexactConversion)?;
        Ok(out)
    }

    /// Inserts a pair known to be valid (conversions only).
    fn insert_pair_unchecked(&mut self, i: usize, j: usize, bias: T) {
        if self.upsert_pair(i, j, bias) {
            self.num_interactions += 1;
        }
    }

    fn check_index(&self, i: usize) -> Result<(), Error> {
        if i < self.num_variables() {
            Ok(())
        } else {
            Err(Error::IndexOutOfRange {
                index: i,
                num_variables: self.num_variables(),
            })
        }
    }

    fn check_pair(&self, i: usize, j: usize) -> Result<(), Error> {
        self.check_index(i)?;
        self.check_index(j)?;
        if i == j {
            Err(Error::SelfLoop { index: i })
        } else {
            Ok(())
        }
    }
}

fn check_finite<T: Coefficient>(v: T, what: impl FnOnce() -> String) -> Result<(), Error> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::NonFiniteCoefficient { what: what() })
    }
}

fn checked_scale<T: Coefficient>(v: T, factor: i64) -> Result<T, Error> {
    v.checked_scale(factor)
        .ok_or(crate::coef::overflow::<T>("the conversion"))
}

fn neg<T: Coefficient>(v: T) -> Result<T, Error> {
    v.checked_neg()
        .ok_or(crate::coef::overflow::<T>("the conversion"))
}

fn scale<T: Coefficient>(v: T, by: i8) -> Result<T, Error> {
    match by {
        1 => Ok(v),
        -1 => v
            .checked_neg()
            .ok_or(crate::coef::overflow::<T>("the energy")),
        _ => Ok(T::ZERO),
    }
}
