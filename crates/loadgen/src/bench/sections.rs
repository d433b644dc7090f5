//! Marked sections of the report that other commands than `cargo xtask bench` write (`bench-hook`,
//! `bench-signed`): replaced in place, and carried over when the full bench rewrites the rest.

/// `report` with the section between `start` and `end` replaced by `section`, or with `section` appended when it has
/// none.
pub(crate) fn replace_marked(report: &str, start: &str, end: &str, section: &str) -> String {
    match (report.find(start), report.find(end)) {
        (Some(from), Some(to)) if from < to => {
            let after = report[to + end.len()..].trim_start_matches('\n');
            format!("{}{section}{after}", &report[..from])
        }
        _ if report.is_empty() => section.to_owned(),
        _ => format!("{}\n\n{section}", report.trim_end()),
    }
}

/// The section between `start` and `end` of an existing report, markers included.
pub(crate) fn existing_marked<'a>(report: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = report.find(start)?;
    let to = report.find(end)? + end.len();
    (from < to).then(|| &report[from..to])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_replaced_in_place_or_appended() {
        let (start, end) = ("<!-- s:start -->", "<!-- s:end -->");
        let section = format!("{start}\nnew\n{end}\n");
        assert_eq!(replace_marked("", start, end, &section), section);
        assert_eq!(
            replace_marked("# Report\n", start, end, &section),
            format!("# Report\n\n{section}")
        );
        let old = format!("# Report\n\n{start}\nold\n{end}\n\n## After\n");
        assert_eq!(
            replace_marked(&old, start, end, &section),
            format!("# Report\n\n{section}## After\n")
        );
        assert_eq!(
            existing_marked(&old, start, end),
            Some(format!("{start}\nold\n{end}").as_str())
        );
    }
}
