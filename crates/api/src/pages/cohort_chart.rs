//! The cohort chart of one metric (UI.md, "Cohort chart"): the distribution of the cohort's values as a small
//! histogram drawn in inline SVG, this session's value marked, `n`, and the percentile of spec §7 stated in words
//! with the counts it is made of ("better than 7 and tied with 2 of the 11 others; ties count half").
//!
//! The counts come from [`Standing`], the same domain function the API's percentile is computed by, so the words
//! and the number beside them cannot disagree.

use traceline_domain::metrics::{Metric, MetricValue, SessionMetrics, Standing, Unit};

use super::format::metric_value;
use crate::routes::Cohort;

/// The drawing's width and height in SVG units; CSS scales it to the column.
const WIDTH: f64 = 300.0;
const BASELINE: f64 = 52.0;
const TALLEST: f64 = 48.0;
/// Bars at most: enough to see the shape of a cohort, few enough to read.
const MAX_BARS: usize = 12;

/// One bar of the histogram, in SVG units.
pub(crate) struct Bar {
    pub(crate) x: String,
    pub(crate) y: String,
    pub(crate) width: String,
    pub(crate) height: String,
    /// Whether this session's value falls in it.
    pub(crate) own: bool,
    /// What it stands for: `3 sessions from 0.1 to 0.2`.
    pub(crate) title: String,
}

/// The chart of one metric.
pub(crate) struct ChartView {
    pub(crate) bars: Vec<Bar>,
    /// Where this session's value is on the x axis, when it has one.
    pub(crate) marker: Option<String>,
    /// The smallest and largest values drawn, as people read them.
    pub(crate) low: String,
    pub(crate) high: String,
    /// `n`: sessions in the cohort.
    pub(crate) n: usize,
    /// The chart in one sentence, its accessible name.
    pub(crate) summary: String,
    /// The percentile in words, with its formula, for a metric the cohort ranks this session on.
    pub(crate) words: Option<String>,
}

/// The chart of `metric` (at `index` of the table) for the session whose metrics are `own`, in `cohort`; `None`
/// when no member has the metric.
pub(crate) fn chart(
    index: usize,
    metric: &Metric,
    own: &SessionMetrics,
    cohort: &Cohort,
) -> Option<ChartView> {
    let value = |metrics: &SessionMetrics| metrics.at(index).and_then(number);
    let others: Vec<f64> = cohort
        .members
        .iter()
        .enumerate()
        .filter(|(position, _)| Some(*position) != cohort.ranked_member)
        .filter_map(|(_, (_, metrics))| value(metrics))
        .collect();
    let mine = value(own);
    let drawn: Vec<f64> = others.iter().copied().chain(mine).collect();
    if drawn.len() < 2 && others.is_empty() {
        return None;
    }
    let (low, high) = drawn
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| (low.min(*v), high.max(*v)));
    let outcome = metric.unit == Unit::Outcome;
    let (low, high) = if outcome { (0.0, 1.0) } else { (low, high) };
    let bins = bin_count(&drawn, outcome);
    let bin_of = |v: f64| {
        if high > low {
            (((v - low) / (high - low) * bins as f64) as usize).min(bins - 1)
        } else {
            0
        }
    };
    let mut counts = vec![0_usize; bins];
    for v in &drawn {
        counts[bin_of(*v)] += 1;
    }
    let tallest = counts.iter().copied().max().unwrap_or(1).max(1);
    let step = WIDTH / bins as f64;
    let label = |v: f64| label(metric, v);
    let bars = counts
        .iter()
        .enumerate()
        .map(|(bin, &count)| {
            let height =
                if count == 0 { 0.0 } else { (count as f64 / tallest as f64 * TALLEST).max(2.0) };
            let (from, to) = (
                low + (high - low) * bin as f64 / bins as f64,
                low + (high - low) * (bin + 1) as f64 / bins as f64,
            );
            let range = if outcome || high <= low || label(from) == label(to) {
                label(from)
            } else {
                format!("{} to {}", label(from), label(to))
            };
            Bar {
                x: svg(bin as f64 * step + 1.0),
                y: svg(BASELINE - height),
                width: svg((step - 2.0).max(1.0)),
                height: svg(height),
                own: mine.is_some_and(|v| bin_of(v) == bin),
                title: format!("{count} {}: {range}", plural(count, "session", "sessions")),
            }
        })
        .collect();
    let marker = mine.map(|v| {
        let x = if outcome {
            (bin_of(v) as f64 + 0.5) * step
        } else if high > low {
            (v - low) / (high - low) * WIDTH
        } else {
            WIDTH / 2.0
        };
        svg(x.clamp(1.0, WIDTH - 1.0))
    });
    let n = cohort.members.len();
    let this = mine.map_or_else(
        || "this session has no value".to_owned(),
        |v| format!("this session: {}", label(v)),
    );
    let summary = format!(
        "{} across {} {} of the cohort that have it; {this}.",
        metric.label,
        others.len() + usize::from(cohort.ranked_member.is_some() && mine.is_some()),
        plural(n, "session", "sessions"),
    );
    let words = match (metric.better, mine) {
        (Some(better), Some(x)) => in_words(Standing::among(others.iter().copied(), x, better)),
        _ => None,
    };
    Some(ChartView { bars, marker, low: label(low), high: label(high), n, summary, words })
}

/// The percentile of spec §7 in words: who this session is better than, who it ties with, and the sum.
fn in_words(standing: Standing) -> Option<String> {
    let percentile = standing.percentile()?;
    let Standing { worse, equal, others } = standing;
    let of_others = format!("of the {others} {}", plural(others as usize, "other", "others"));
    Some(if equal == 0 {
        format!("Better than {worse} {of_others}: {worse} ÷ {others} = {percentile}.")
    } else {
        format!(
            "Better than {worse} and tied with {equal} {of_others}; ties count half: \
             ({worse} + {equal} ÷ 2) ÷ {others} = {percentile}."
        )
    })
}

/// Bars: one per outcome; else one per distinct value up to [`MAX_BARS`].
fn bin_count(values: &[f64], outcome: bool) -> usize {
    if outcome {
        return 2;
    }
    let mut distinct: Vec<f64> = values.to_vec();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    distinct.len().clamp(1, MAX_BARS)
}

/// A value as a number on the axis; an outcome is 1 for passed, 0 for failed.
fn number(value: MetricValue) -> Option<f64> {
    match value {
        MetricValue::Flag(passed) => Some(if passed { 1.0 } else { 0.0 }),
        other => other.as_f64(),
    }
}

/// A number on the axis in the metric's unit.
fn label(metric: &Metric, v: f64) -> String {
    match metric.unit {
        Unit::Outcome => metric_value(metric, MetricValue::Flag(v >= 0.5)),
        Unit::Milliseconds | Unit::Count => {
            metric_value(metric, MetricValue::Integer(v.round() as i64))
        }
        Unit::Ratio | Unit::Percent => metric_value(metric, MetricValue::Real(v)),
    }
}

/// An SVG coordinate: one decimal is finer than a pixel.
fn svg(v: f64) -> String {
    format!("{v:.1}")
}

fn plural(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use traceline_domain::metrics::Better;

    #[test]
    fn the_words_say_the_counts_the_percentile_is_made_of() {
        let standing = Standing::among([1.0, 2.0, 3.0, 5.0, 5.0].into_iter(), 5.0, Better::Smaller);
        assert_eq!(
            in_words(standing).unwrap(),
            "Better than 0 and tied with 2 of the 5 others; ties count half: (0 + 2 ÷ 2) ÷ 5 = 0.2."
        );
        let seed = Standing { worse: 8, equal: 0, others: 11 };
        assert_eq!(in_words(seed).unwrap(), "Better than 8 of the 11 others: 8 ÷ 11 = 0.727.");
        assert_eq!(in_words(Standing::default()), None);
    }
}
