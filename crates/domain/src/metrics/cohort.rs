//! Cohort statistics (spec §7): the summaries of a cohort's session metrics, and one session's percentile ranks,
//! both driven by the [metric table](super::METRICS) (`cohort` and `better` of each metric).
//!
//! Everything is one linear pass per figure over the cohort's [`SessionMetrics`], so a cohort of 10,000
//! sessions costs well under a millisecond. Rounding, where the spec leaves it open: integer means and
//! percentages of `true` round halves up, computed exactly in integers; the other means are rounded to 3
//! decimals, which is how the seed's `0.142` and `38.5` read; percentiles are rounded to 3 decimals exactly, in
//! integers, so that `k/11` and halves always come out the same.

use std::cmp::Ordering;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::session_metrics::SessionMetrics;
use super::table::{Better, CohortSummary, METRICS};
use super::value::MetricValue;

/// The session the percentiles rank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ranked<'a> {
    /// The cohort member at this index of the cohort slice; it is left out of the sessions it is ranked among.
    Member(usize),
    /// A session that is not in the cohort (its key is still active, say); it is ranked among every member.
    Outsider(&'a SessionMetrics),
}

/// `cohortStats` of spec §7, serialised as `{sessionCount, metrics, percentiles?}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CohortStats {
    /// `sessionCount`: sessions in the cohort.
    pub session_count: i64,
    /// `metrics`: the cohort's summaries.
    pub metrics: NamedValues<MetricValue>,
    /// `percentiles`: the ranked session's standing; present only with a ranked session and ≥ 2 members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentiles: Option<NamedValues<f64>>,
}

/// Figures by name, in table order, serialised as a JSON object whose absent figures are `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedValues<T>(Vec<(&'static str, Option<T>)>);

impl<T: Copy> NamedValues<T> {
    /// The figure with this name; `None` when it is null or there is no such figure.
    pub fn get(&self, name: &str) -> Option<T> {
        self.0.iter().find(|(own, _)| *own == name).and_then(|(_, value)| *value)
    }

    /// Every figure with its name, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Option<T>)> + '_ {
        self.0.iter().copied()
    }
}

impl<T: Serialize> Serialize for NamedValues<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// The cohort statistics of spec §7; `None` for an empty cohort (the API's `{"cohortStats": null}`).
///
/// `ranked` names the session to rank, if any. A [`Ranked::Member`] index outside the cohort ranks nothing.
pub fn cohort_stats(cohort: &[SessionMetrics], ranked: Option<Ranked<'_>>) -> Option<CohortStats> {
    if cohort.is_empty() {
        return None;
    }
    let percentiles =
        ranked.filter(|_| cohort.len() >= 2).and_then(|ranked| percentiles(cohort, ranked));
    Some(CohortStats {
        session_count: count(cohort.len()),
        metrics: summaries(cohort),
        percentiles,
    })
}

fn summaries(cohort: &[SessionMetrics]) -> NamedValues<MetricValue> {
    let summaries = METRICS.iter().enumerate().filter_map(|(index, metric)| {
        let summary = metric.cohort?;
        let values = cohort.iter().filter_map(move |metrics| metrics.at(index));
        let value = match summary {
            CohortSummary::IntegerMean(_) => {
                integer_mean(values.filter_map(MetricValue::as_i64)).map(MetricValue::Integer)
            }
            CohortSummary::Mean(_) => {
                mean(values.filter_map(MetricValue::as_f64)).map(MetricValue::Real)
            }
            CohortSummary::PercentTrue(_) => {
                let yes = values.filter(|value| value.as_bool() == Some(true)).count();
                let rate = rounded_div(100 * yes as u128, cohort.len() as u128);
                Some(MetricValue::Integer(i64::try_from(rate).unwrap_or(100)))
            }
        };
        Some((summary.name(), value))
    });
    NamedValues(summaries.collect())
}

fn percentiles(cohort: &[SessionMetrics], ranked: Ranked<'_>) -> Option<NamedValues<f64>> {
    let (skip, ranked) = match ranked {
        Ranked::Member(index) => (Some(index), cohort.get(index)?),
        Ranked::Outsider(metrics) => (None, metrics),
    };
    let ranks = METRICS.iter().enumerate().filter_map(|(index, metric)| {
        let better = metric.better?;
        let others = cohort
            .iter()
            .enumerate()
            .filter(|(position, _)| Some(*position) != skip)
            .filter_map(|(_, other)| other.at(index)?.as_f64());
        let rank = ranked
            .at(index)
            .and_then(MetricValue::as_f64)
            .and_then(|x| percentile(others, x, better));
        Some((metric.name, rank))
    });
    Some(NamedValues(ranks.collect()))
}

/// Every member's percentiles, each ranked against the other members exactly as [`cohort_stats`] ranks a
/// [`Ranked::Member`]; empty below two members. One sort per ranked metric rather than one pass per member, so a
/// cohort table of thousands of sessions costs milliseconds.
pub fn member_percentiles(cohort: &[SessionMetrics]) -> Vec<NamedValues<f64>> {
    if cohort.len() < 2 {
        return Vec::new();
    }
    let mut ranks: Vec<Vec<(&'static str, Option<f64>)>> = vec![Vec::new(); cohort.len()];
    for (index, metric) in METRICS.iter().enumerate() {
        let Some(better) = metric.better else { continue };
        let value = |metrics: &SessionMetrics| metrics.at(index).and_then(MetricValue::as_f64);
        let mut sorted: Vec<f64> = cohort.iter().filter_map(value).collect();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
        let total = sorted.len().saturating_sub(1) as u128;
        for (member, metrics) in cohort.iter().enumerate() {
            let rank = value(metrics).filter(|_| total > 0).map(|x| {
                let below = sorted.partition_point(|other| *other < x) as u128;
                let up_to = sorted.partition_point(|other| *other <= x) as u128;
                // The member itself is one of the values equal to x: it is not among the others.
                let equal = up_to - below - 1;
                let worse = match better {
                    Better::Smaller => sorted.len() as u128 - up_to,
                    Better::Larger => below,
                };
                rounded_div(1000 * (2 * worse + equal), 2 * total) as f64 / 1000.0
            });
            ranks[member].push((metric.name, rank));
        }
    }
    ranks.into_iter().map(NamedValues).collect()
}

/// Where one value stands among the others of its cohort (spec §7), the counts the percentile is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    /// Others that are worse than the value.
    pub worse: u64,
    /// Others equal to it; each counts half.
    pub equal: u64,
    /// Others that have the metric: |O|.
    pub others: u64,
}

impl Standing {
    /// How `x` stands among `others`, `better` saying which way is better.
    pub fn among(others: impl Iterator<Item = f64>, x: f64, better: Better) -> Standing {
        let mut standing = Standing::default();
        for other in others {
            standing.others += 1;
            match (other.partial_cmp(&x), better) {
                (Some(Ordering::Equal), _) => standing.equal += 1,
                (Some(Ordering::Greater), Better::Smaller)
                | (Some(Ordering::Less), Better::Larger) => standing.worse += 1,
                _ => {}
            }
        }
        standing
    }

    /// (|worse| + ½ |equal|) ÷ |others|, rounded to 3 decimals; `None` when there are no others.
    pub fn percentile(&self) -> Option<f64> {
        let (worse, equal, others) =
            (u128::from(self.worse), u128::from(self.equal), u128::from(self.others));
        // Counted in halves so the ½ stays an integer: (2·worse + equal) ÷ (2·others), to the nearest thousandth.
        (others > 0).then(|| rounded_div(1000 * (2 * worse + equal), 2 * others) as f64 / 1000.0)
    }
}

/// (|worse than `x`| + ½ |equal to `x`|) ÷ |others having the metric|, rounded to 3 decimals.
fn percentile(others: impl Iterator<Item = f64>, x: f64, better: Better) -> Option<f64> {
    Standing::among(others, x, better).percentile()
}

/// The mean of the values rounded to an integer (halves up), or `None` when there is none.
fn integer_mean(values: impl Iterator<Item = i64>) -> Option<i64> {
    let (sum, present) = values
        .fold((0_i128, 0_i128), |(sum, present), value| (sum + i128::from(value), present + 1));
    // Halves round up: ⌊(2·sum + n) ÷ 2n⌋. The mean of i64 values is an i64, so the conversion cannot fail.
    (present > 0)
        .then(|| (2 * sum + present).div_euclid(2 * present))
        .and_then(|mean| i64::try_from(mean).ok())
}

/// The mean of the values rounded to 3 decimals, or `None` when there is none.
fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, present) =
        values.fold((0.0, 0_usize), |(sum, present), value| (sum + value, present + 1));
    (present > 0).then(|| (sum / present as f64 * 1000.0).round() / 1000.0)
}

/// `numerator ÷ denominator` rounded to the nearest integer, halves up; `denominator` is never 0 here.
fn rounded_div(numerator: u128, denominator: u128) -> u128 {
    (2 * numerator + denominator) / (2 * denominator)
}

/// A length as the API's integer type.
fn count(length: usize) -> i64 {
    i64::try_from(length).unwrap_or(i64::MAX)
}
