//! How a request of `n` rows is cut into batch-class pieces.

/// Run overhead in rows: a piece costs its padded rows plus this (tract's
/// per-run cost is ~2 us, about two rows of a small MLP).
pub(super) const RUN_COST_ROWS: usize = 2;

/// For every remainder `r < largest class`, the class index that starts the
/// cheapest split: minimum total padded rows plus [`RUN_COST_ROWS`] per run
/// (64 rows over classes 1/8/32/128/256 run as 32 + 32, not padded to 128;
/// 5 rows pad to 8, not five runs of 1).
pub(super) fn split_plan(classes: &[usize]) -> Vec<usize> {
    let largest = classes.last().copied().unwrap_or(1);
    let mut cost = vec![0usize; largest];
    let mut choice = vec![0usize; largest];
    for r in 1..largest {
        let mut best = (usize::MAX, 0);
        for (i, &c) in classes.iter().enumerate() {
            let total = if c >= r {
                c + RUN_COST_ROWS
            } else {
                c + RUN_COST_ROWS + cost[r - c]
            };
            if total < best.0 {
                best = (total, i);
            }
        }
        cost[r] = best.0;
        choice[r] = best.1;
    }
    choice
}
