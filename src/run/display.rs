//! How recorded values read as text, the same in `kfpl runs` and `kfpl ui`.

/// A metric as shown: `93.40%` for percentages, the number for raw, `missing`.
pub fn metric_text(value: Option<f64>, format: &str) -> String {
    match value {
        None => "missing".into(),
        Some(v) if format == "percentage" => percentage(v),
        Some(v) => format!("{v}"),
    }
}

/// `v` as a percentage with two decimals; in scientific notation where
/// `v * 100` is too large for a float (1.5e308 → `1.5e310%`, not `inf%`).
fn percentage(v: f64) -> String {
    let scaled = v * 100.0;
    if scaled.is_finite() {
        return format!("{scaled:.2}%");
    }
    let text = format!("{v:e}");
    match text.split_once('e').map(|(m, e)| (m, e.parse::<i32>())) {
        Some((mantissa, Ok(exponent))) => format!("{mantissa}e{}%", exponent + 2),
        _ => format!("{text}×100%"),
    }
}

/// `2024-05-01T12:34:56.789Z` → `2024-05-01 12:34:56`.
pub fn short_time(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_too_large_to_scale_are_not_inf() {
        assert_eq!(metric_text(Some(0.934), "percentage"), "93.40%");
        assert_eq!(metric_text(Some(1.5e308), "percentage"), "1.5e310%");
        assert_eq!(metric_text(Some(-1.5e308), "percentage"), "-1.5e310%");
        assert_eq!(metric_text(None, "percentage"), "missing");
    }
}
