//! How numbers and times read on a page: durations in words a reviewer scans quickly, timestamps in UTC, a
//! metric's value in its unit.

use chrono::{DateTime, Utc};
use traceline_domain::metrics::{Metric, MetricValue, Unit};

/// A duration: `850 ms`, `12 s`, `4 min 05 s`, `2 h 03 min`, `3 d 04 h`.
pub(crate) fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    let seconds = ms / 1000;
    match seconds {
        0 => format!("{ms} ms"),
        1..=59 => format!("{seconds} s"),
        60..=3599 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        3600..=86_399 => format!("{} h {:02} min", seconds / 3600, seconds / 60 % 60),
        _ => format!("{} d {:02} h", seconds / 86_400, seconds / 3600 % 24),
    }
}

/// Time since the start of a session, as a stopwatch shows it: `+04:05`, `+1:02:03`.
pub(crate) fn offset(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("+{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("+{minutes:02}:{seconds:02}")
    }
}

/// A moment, to the minute: `2026-04-01 10:15 UTC`.
pub(crate) fn moment(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A moment as `<time datetime>` wants it.
pub(crate) fn machine(at: DateTime<Utc>) -> String {
    traceline_domain::time::format_timestamp(&at)
}

/// The time of day, to the second: `10:15:03`.
pub(crate) fn time_of_day(at: DateTime<Utc>) -> String {
    at.format("%H:%M:%S").to_string()
}

/// A value in its metric's unit.
pub(crate) fn metric_value(metric: &Metric, value: MetricValue) -> String {
    match (metric.unit, value) {
        (Unit::Milliseconds, MetricValue::Integer(ms)) => duration(ms),
        (Unit::Percent, value) => {
            value.as_f64().map_or_else(String::new, |pct| format!("{pct:.1} %"))
        }
        (Unit::Ratio, value) => value.as_f64().map_or_else(String::new, trimmed),
        (_, MetricValue::Flag(true)) => "passed".to_owned(),
        (_, MetricValue::Flag(false)) => "failed".to_owned(),
        (_, MetricValue::Integer(count)) => count.to_string(),
        (_, MetricValue::Real(number)) => trimmed(number),
    }
}

/// A number with at most three decimals and no trailing zeros: `0.333`, `2.5`, `1`.
fn trimmed(number: f64) -> String {
    let text = format!("{number:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(12_400), "12 s");
        assert_eq!(duration(245_000), "4 min 05 s");
        assert_eq!(duration(7_380_000), "2 h 03 min");
        assert_eq!(duration(273_600_000), "3 d 04 h");
        assert_eq!(duration(-5), "0 ms");
        assert_eq!(offset(245_000), "+04:05");
        assert_eq!(offset(3_723_000), "+1:02:03");
    }
}
