//! Weighted quantiles of pre-aggregated `(value, weight)` data.

use crate::exact::validate_fractions;
use crate::{Error, NanPolicy};

/// Quantiles of values that carry weights (counts of a pre-aggregated
/// histogram, sampling weights...), by the inverted-CDF definition — the one
/// numpy's `quantile(..., weights=, method="inverted_cdf")` implements: the
/// smallest value whose cumulative weight share reaches `q`. Zero-weight
/// values are never returned (unless every weight before them is zero and
/// `q = 0`, as in numpy).
///
/// ```
/// use novacron_percentile::{weighted_quantiles, NanPolicy};
/// // 90 requests at 10 ms, 9 at 100 ms, 1 at 1000 ms.
/// let p = weighted_quantiles(&[10.0, 100.0, 1000.0], &[90.0, 9.0, 1.0], &[0.5, 0.95, 0.999], NanPolicy::Error)?;
/// assert_eq!(p, vec![10.0, 100.0, 1000.0]);
/// # Ok::<(), novacron_percentile::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::LengthMismatch`], [`Error::InvalidWeight`] (negative, NaN or
/// infinite), [`Error::ZeroTotalWeight`], [`Error::NonFiniteTotalWeight`]
/// (more than 2⁶⁴ weights near `f64::MAX`; a total that merely overflows is
/// rescaled and answered exactly), [`Error::EmptyInput`], invalid
/// quantiles, and NaN values under [`NanPolicy::Error`].
pub fn weighted_quantiles(
    values: &[f64],
    weights: &[f64],
    qs: &[f64],
    nan: NanPolicy,
) -> Result<Vec<f64>, Error> {
    validate_fractions(qs, qs.len())?;
    if values.len() != weights.len() {
        return Err(Error::LengthMismatch {
            values: values.len(),
            weights: weights.len(),
        });
    }
    if let Some((index, &weight)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !w.is_finite() || **w < 0.0)
    {
        return Err(Error::InvalidWeight { index, weight });
    }
    let mut pairs: Vec<(f64, f64)> = Vec::with_capacity(values.len());
    for (i, (&v, &w)) in values.iter().zip(weights).enumerate() {
        if v.is_nan() {
            match nan {
                NanPolicy::Error => return Err(Error::NanInData { index: i }),
                NanPolicy::Propagate => return Ok(vec![f64::NAN; qs.len()]),
                NanPolicy::Omit => continue,
            }
        }
        pairs.push((v, w));
    }
    if pairs.is_empty() {
        return Err(Error::EmptyInput);
    }
    // Stable, like numpy's argsort(kind="stable").
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Weights near f64::MAX overflow the running total; scaled by 2⁻⁶⁴
    // (exact, a power of two) the shares stay the same and the total finite.
    let unscaled: f64 = pairs.iter().map(|&(_, w)| w).sum();
    let scale = if unscaled.is_finite() {
        1.0
    } else {
        2f64.powi(-64)
    };
    let mut cdf: Vec<f64> = Vec::with_capacity(pairs.len());
    let mut acc = 0.0f64;
    for &(_, w) in &pairs {
        acc += w * scale;
        cdf.push(acc);
    }
    let total = acc;
    if !total.is_finite() {
        return Err(Error::NonFiniteTotalWeight);
    }
    if total <= 0.0 {
        return Err(Error::ZeroTotalWeight);
    }
    for c in &mut cdf {
        *c /= total;
        // Leading zero weights must not be picked for q = 0 (numpy sets them to -1).
        if *c == 0.0 {
            *c = -1.0;
        }
    }
    let last = pairs.len() - 1;
    Ok(qs
        .iter()
        .map(|&q| {
            let idx = cdf.partition_point(|&c| c < q).min(last);
            pairs[idx].0
        })
        .collect())
}
