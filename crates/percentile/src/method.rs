//! numpy's 13 quantile definitions, reproduced bit for bit.
//!
//! Each method maps a fraction `q` and a count `n` to either one order
//! statistic or two neighbouring ones and an interpolation weight, with the
//! same floating-point operations, in the same order, as numpy 2.x's
//! `_quantile` (`_compute_virtual_index`, `_get_indexes`, `_get_gamma`,
//! `_lerp`), so results agree with `numpy.quantile` to the last bit on finite
//! data.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// How a quantile is defined between order statistics: numpy's `method=`.
///
/// The first nine are Hyndman & Fan's types 1–9; the last four are numpy's
/// discontinuous variants of type 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Method {
    /// H&F 1: the smallest value whose empirical CDF reaches `q`.
    InvertedCdf,
    /// H&F 2: like `InvertedCdf`, averaging at discontinuities.
    AveragedInvertedCdf,
    /// H&F 3: the nearest order statistic, even ones at ties.
    ClosestObservation,
    /// H&F 4: linear interpolation of the empirical CDF.
    InterpolatedInvertedCdf,
    /// H&F 5: piecewise linear, knots at the midpoints of the steps.
    Hazen,
    /// H&F 6: `p(k) = k / (n + 1)`.
    Weibull,
    /// H&F 7, numpy's default: virtual index `(n - 1) q`, interpolated.
    #[default]
    Linear,
    /// H&F 8: approximately median-unbiased whatever the distribution.
    MedianUnbiased,
    /// H&F 9: approximately unbiased for normally distributed data.
    NormalUnbiased,
    /// The order statistic at `floor((n - 1) q)`.
    Lower,
    /// The order statistic at `ceil((n - 1) q)`.
    Higher,
    /// The order statistic at `(n - 1) q` rounded half to even.
    Nearest,
    /// The mean of `Lower` and `Higher`.
    Midpoint,
}

impl Method {
    /// All 13 methods, in numpy's documentation order.
    pub const ALL: [Method; 13] = [
        Method::InvertedCdf,
        Method::AveragedInvertedCdf,
        Method::ClosestObservation,
        Method::InterpolatedInvertedCdf,
        Method::Hazen,
        Method::Weibull,
        Method::Linear,
        Method::MedianUnbiased,
        Method::NormalUnbiased,
        Method::Lower,
        Method::Higher,
        Method::Nearest,
        Method::Midpoint,
    ];

    /// numpy's name of the method (`"linear"`, `"median_unbiased"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Method::InvertedCdf => "inverted_cdf",
            Method::AveragedInvertedCdf => "averaged_inverted_cdf",
            Method::ClosestObservation => "closest_observation",
            Method::InterpolatedInvertedCdf => "interpolated_inverted_cdf",
            Method::Hazen => "hazen",
            Method::Weibull => "weibull",
            Method::Linear => "linear",
            Method::MedianUnbiased => "median_unbiased",
            Method::NormalUnbiased => "normal_unbiased",
            Method::Lower => "lower",
            Method::Higher => "higher",
            Method::Nearest => "nearest",
            Method::Midpoint => "midpoint",
        }
    }

    /// Where the quantile `q` of `n > 0` sorted values lies.
    pub(crate) fn pick(self, n: usize, q: f64) -> Pick {
        let nf = n as f64;
        let last = n - 1;
        match self {
            Method::InvertedCdf => Pick::At(discrete_boundary(nf * q - 1.0, |g, _| g == 0.0, last)),
            Method::ClosestObservation => Pick::At(discrete_boundary(
                nf * q - 1.0 - 0.5,
                |g, idx| g == 0.0 && idx.floor().rem_euclid(2.0) == 1.0,
                last,
            )),
            Method::Lower => Pick::At(clamp_index(((nf - 1.0) * q).floor(), last)),
            Method::Higher => Pick::At(clamp_index(((nf - 1.0) * q).ceil(), last)),
            Method::Nearest => Pick::At(clamp_index(((nf - 1.0) * q).round_ties_even(), last)),
            Method::AveragedInvertedCdf => {
                let vi = nf * q - 1.0;
                let g = vi - vi.floor();
                interpolate(vi, if g == 0.0 { 0.5 } else { 1.0 }, last)
            }
            Method::Midpoint => {
                let v = (nf - 1.0) * q;
                let vi = 0.5 * (v.floor() + v.ceil());
                interpolate(vi, if vi % 1.0 == 0.0 { 0.0 } else { 0.5 }, last)
            }
            Method::Linear => {
                let vi = (nf - 1.0) * q;
                interpolate(vi, vi - vi.floor(), last)
            }
            Method::InterpolatedInvertedCdf => continuous(nf, q, 0.0, 1.0, last),
            Method::Hazen => continuous(nf, q, 0.5, 0.5, last),
            Method::Weibull => continuous(nf, q, 0.0, 0.0, last),
            Method::MedianUnbiased => continuous(nf, q, 1.0 / 3.0, 1.0 / 3.0, last),
            Method::NormalUnbiased => continuous(nf, q, 3.0 / 8.0, 3.0 / 8.0, last),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = Error;

    /// Parses numpy's method names.
    fn from_str(s: &str) -> Result<Method, Error> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| Error::UnknownMethod { name: s.to_owned() })
    }
}

/// Which order statistics a quantile needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Pick {
    /// Exactly the order statistic at this rank.
    At(usize),
    /// `lerp(x[lo], x[hi], t)` with numpy's two-sided formula.
    Lerp { lo: usize, hi: usize, t: f64 },
}

impl Pick {
    /// Calls `f` with each rank this pick needs.
    pub(crate) fn ranks(self, mut f: impl FnMut(usize)) {
        match self {
            Pick::At(r) => f(r),
            Pick::Lerp { lo, hi, .. } => {
                f(lo);
                f(hi);
            }
        }
    }

    /// The quantile, given a lookup from rank to order statistic.
    pub(crate) fn eval(self, value_at: impl Fn(usize) -> f64) -> f64 {
        match self {
            Pick::At(r) => value_at(r),
            Pick::Lerp { lo, hi, t } => {
                if lo == hi {
                    value_at(lo)
                } else {
                    lerp(value_at(lo), value_at(hi), t)
                }
            }
        }
    }
}

/// numpy's `_compute_virtual_index`: `n q + (alpha + q (1 - alpha - beta)) - 1`.
fn continuous(nf: f64, q: f64, alpha: f64, beta: f64, last: usize) -> Pick {
    let vi = nf * q + (alpha + q * (1.0 - alpha - beta)) - 1.0;
    interpolate(vi, vi - vi.floor(), last)
}

/// numpy's `_get_indexes` + the already fixed gamma.
fn interpolate(vi: f64, t: f64, last: usize) -> Pick {
    if vi >= last as f64 {
        Pick::At(last)
    } else if vi < 0.0 {
        Pick::At(0)
    } else {
        let lo = vi.floor() as usize;
        Pick::Lerp {
            lo,
            hi: (lo + 1).min(last),
            t,
        }
    }
}

/// numpy's `_discret_interpolation_to_boundaries`.
fn discrete_boundary(idx: f64, take_previous: impl Fn(f64, f64) -> bool, last: usize) -> usize {
    let previous = idx.floor();
    let gamma = idx - previous;
    let chosen = if take_previous(gamma, idx) {
        previous
    } else {
        previous + 1.0
    };
    clamp_index(chosen, last)
}

fn clamp_index(x: f64, last: usize) -> usize {
    if x <= 0.0 {
        0
    } else if x >= last as f64 {
        last
    } else {
        x as usize
    }
}

/// numpy's `_lerp`: `a + (b - a) t` below `t = 0.5`, `b - (b - a)(1 - t)` from
/// there, which is monotone and exact at both ends. Infinite neighbours give
/// the infinite one (numpy would give NaN from `inf - inf`).
pub(crate) fn lerp(a: f64, b: f64, t: f64) -> f64 {
    if a.is_infinite() || b.is_infinite() {
        return if t == 0.0 {
            a
        } else if t == 1.0 || a == b {
            b
        } else if a.is_infinite() && b.is_infinite() {
            f64::NAN
        } else if a.is_infinite() {
            a
        } else {
            b
        };
    }
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_round_trips_through_its_numpy_name() {
        for m in Method::ALL {
            assert_eq!(m.name().parse::<Method>(), Ok(m));
        }
        assert_eq!(
            "percentile".parse::<Method>(),
            Err(Error::UnknownMethod {
                name: "percentile".into()
            })
        );
    }

    #[test]
    fn lerp_is_exact_at_the_ends_and_handles_infinities() {
        assert_eq!(lerp(1.0, 3.0, 0.0), 1.0);
        assert_eq!(lerp(1.0, 3.0, 1.0), 3.0);
        assert_eq!(lerp(1.0, 3.0, 0.5), 2.0);
        assert_eq!(lerp(f64::NEG_INFINITY, 3.0, 0.3), f64::NEG_INFINITY);
        assert_eq!(lerp(1.0, f64::INFINITY, 0.3), f64::INFINITY);
        assert!(lerp(f64::NEG_INFINITY, f64::INFINITY, 0.3).is_nan());
    }

    #[test]
    fn picks_stay_in_bounds_for_every_method_and_extreme_q() {
        for m in Method::ALL {
            for n in [1usize, 2, 3, 10, 1001] {
                for q in [0.0, 1e-12, 0.25, 0.5, 0.999_999, 1.0] {
                    m.pick(n, q)
                        .ranks(|r| assert!(r < n, "{m} n={n} q={q} rank {r}"));
                }
            }
        }
    }
}
