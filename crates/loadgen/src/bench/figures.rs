//! How the benchmark's report writes its figures: megabytes, cores, thousands separators.

/// kB (1024 bytes, as `/proc` counts) in MB (10^6 bytes).
pub(crate) fn mb(kb: u64) -> f64 {
    kb as f64 * 1024.0 / 1e6
}

/// CPU use as cores busy, e.g. `1.62`, or `?` when `/proc` could not tell.
pub(crate) fn cores(value: Option<f64>) -> String {
    value.map_or_else(|| "?".to_owned(), |cores| format!("{cores:.2}"))
}

/// A rounded number with thousands separators, `15234.6` → `15,235`; one decimal below 100, `3.27` → `3.3`.
pub(crate) fn thousands(value: f64) -> String {
    if value < 100.0 {
        return format!("{:.1}", value.max(0.0));
    }
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
