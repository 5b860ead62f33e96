//! The benchmarks' summaries: medians across runs, quantiles within a run.

/// The median of `f` over `items` (the upper one of an even count); NaN when empty.
pub fn median_by<T>(items: &[T], f: impl Fn(&T) -> f64) -> f64 {
    let mut values: Vec<f64> = items.iter().map(f).collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The `q` quantile (0..=1) of `sorted` by nearest rank; NaN when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let last = sorted.len().saturating_sub(1) as f64;
    sorted
        .get((last * q).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}
