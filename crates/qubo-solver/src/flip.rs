//! Incremental one-flip energy deltas over a model, in the model's own coefficients.

use crate::coef::{Coefficient, add};
use crate::{Bqm, Error, Vartype};

/// A state of a [`Bqm`] with every one-flip energy delta maintained:
/// [`delta`](FlipState::delta) is O(1) and [`flip`](FlipState::flip) is
/// O(degree of the variable). Integer models keep exact deltas.
///
/// ```
/// use novacron_qubo_solver::{Bqm, FlipState, Vartype};
///
/// let mut bqm = Bqm::<i64>::with_variables(3, Vartype::Binary)?;
/// bqm.add_linear(0, -1)?;
/// bqm.add_quadratic(0, 1, 2)?;
/// let mut state = FlipState::new(&bqm, vec![0, 1, 0])?;
/// assert_eq!(state.delta(0)?, 1); // -1 + 2
/// state.flip(0)?;
/// assert_eq!(state.energy(), bqm.energy(state.state())?);
/// # Ok::<(), novacron_qubo_solver::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FlipState<'a, T: Coefficient> {
    bqm: &'a Bqm<T>,
    state: Vec<i8>,
    /// `aᵢ + Σⱼ bᵢⱼ vⱼ`: the energy's derivative in vᵢ.
    field: Vec<T>,
    energy: T,
}

impl<'a, T: Coefficient> FlipState<'a, T> {
    /// Starts from `state` (validated against the model).
    pub fn new(bqm: &'a Bqm<T>, state: Vec<i8>) -> Result<Self, Error> {
        let energy = bqm.energy(&state)?;
        let mut field = bqm.linear_biases().to_vec();
        for (i, f) in field.iter_mut().enumerate() {
            for (j, b) in bqm.neighbors(i)? {
                *f = add(*f, times(b, state[j])?, "a local field")?;
            }
        }
        Ok(FlipState {
            bqm,
            state,
            field,
            energy,
        })
    }

    /// The current state.
    pub fn state(&self) -> &[i8] {
        &self.state
    }

    /// The current energy.
    pub fn energy(&self) -> T {
        self.energy
    }

    /// The change of energy if variable `i` flipped.
    pub fn delta(&self, i: usize) -> Result<T, Error> {
        let (Some(&v), Some(&f)) = (self.state.get(i), self.field.get(i)) else {
            return Err(Error::IndexOutOfRange {
                index: i,
                num_variables: self.state.len(),
            });
        };
        // Binary: Δ = (1 - 2x) f. Spin: Δ = -2 s f.
        let step = match self.bqm.vartype() {
            Vartype::Binary => 1 - 2 * v,
            Vartype::Spin => -2 * v,
        };
        times(f, step)
    }

    /// Flips variable `i` and updates the energy and the neighbours' fields.
    pub fn flip(&mut self, i: usize) -> Result<(), Error> {
        let delta = self.delta(i)?;
        let v = self.state[i];
        let new = match self.bqm.vartype() {
            Vartype::Binary => 1 - v,
            Vartype::Spin => -v,
        };
        let change = new - v;
        for (j, b) in self.bqm.neighbors(i)? {
            self.field[j] = add(self.field[j], times(b, change)?, "a local field")?;
        }
        self.state[i] = new;
        self.energy = add(self.energy, delta, "the energy")?;
        Ok(())
    }
}

fn times<T: Coefficient>(b: T, by: i8) -> Result<T, Error> {
    b.checked_scale(i64::from(by))
        .ok_or(crate::coef::overflow::<T>("a local field"))
}
