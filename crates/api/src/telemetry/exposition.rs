//! Prometheus' text exposition format (version 0.0.4), written by hand: a few families of counters, gauges and
//! histograms need a `# HELP` and `# TYPE` line each and samples with escaped labels, which is less code than
//! adapting a metrics crate's registry to counters that already live elsewhere (the storage crate's atomics).

use std::fmt::{Display, Write};

/// The `Content-Type` of the format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a family's samples mean to Prometheus.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// A page of metric families being written.
#[derive(Debug, Default)]
pub(crate) struct Exposition {
    text: String,
}

impl Exposition {
    /// Starts a family: its help line and type.
    pub(crate) fn family(&mut self, name: &str, help: &str, kind: Kind) {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let help = help.replace('\\', r"\\").replace('\n', r"\n");
        let _ = writeln!(self.text, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// One sample of the current family.
    pub(crate) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (index, (label, value)) in labels.iter().enumerate() {
                if index > 0 {
                    self.text.push(',');
                }
                self.text.push_str(label);
                self.text.push_str("=\"");
                escape_into(&mut self.text, value);
                self.text.push('"');
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }

    /// A histogram's samples: `buckets` are per-bucket counts for `bounds` and, last, beyond them (not
    /// cumulative); written cumulatively with `le`, then `_sum` and `_count`.
    pub(crate) fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        bounds: &[String],
        buckets: &[u64],
        sum: impl Display,
    ) {
        let bucket_name = format!("{name}_bucket");
        let mut cumulative = 0;
        for (index, count) in buckets.iter().enumerate() {
            cumulative += count;
            let le = bounds.get(index).map_or("+Inf", String::as_str);
            let mut with_le = labels.to_vec();
            with_le.push(("le", le));
            self.sample(&bucket_name, &with_le, cumulative);
        }
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, cumulative);
    }

    /// The page.
    pub(crate) fn finish(self) -> String {
        self.text
    }
}

/// A label value as the format wants it: backslash, double quote and line feed escaped.
fn escape_into(text: &mut String, value: &str) {
    for character in value.chars() {
        match character {
            '\\' => text.push_str(r"\\"),
            '"' => text.push_str("\\\""),
            '\n' => text.push_str(r"\n"),
            other => text.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_histograms_are_cumulative() {
        let mut page = Exposition::default();
        page.family("t_requests_total", "Requests.\nAll of them.", Kind::Counter);
        page.sample("t_requests_total", &[("route", "a\"b\\c\nd"), ("status", "200")], 3);
        page.family("t_seconds", "Latency.", Kind::Histogram);
        let bounds = ["0.5".to_owned(), "1".to_owned()];
        page.histogram("t_seconds", &[("route", "/x")], &bounds, &[2, 0, 1], 4.25);
        assert_eq!(
            page.finish(),
            "# HELP t_requests_total Requests.\\nAll of them.\n# TYPE t_requests_total counter\n\
             t_requests_total{route=\"a\\\"b\\\\c\\nd\",status=\"200\"} 3\n\
             # HELP t_seconds Latency.\n# TYPE t_seconds histogram\n\
             t_seconds_bucket{route=\"/x\",le=\"0.5\"} 2\nt_seconds_bucket{route=\"/x\",le=\"1\"} 2\n\
             t_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\nt_seconds_sum{route=\"/x\"} 4.25\n\
             t_seconds_count{route=\"/x\"} 3\n"
        );
    }
}
