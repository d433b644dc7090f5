//! Terminal output as a page shows it: ANSI colour codes become CSS classes (`ansi-fg-1`, `ansi-bold`), every
//! other escape sequence and control character is dropped. The text itself stays text: the template escapes it,
//! so nothing in a command's output can become markup (no inline `style`, which the CSP forbids anyway).

/// A run of text drawn one way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Space-separated `ansi-*` classes; empty for plain text.
    pub(crate) class: String,
    pub(crate) text: String,
}

/// How the text is drawn at a point: SGR attributes that have a class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    foreground: Option<u8>,
    background: Option<u8>,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
}

impl Style {
    fn class(&self) -> String {
        let mut classes: Vec<String> = Vec::new();
        if let Some(colour) = self.foreground {
            classes.push(format!("ansi-fg-{colour}"));
        }
        if let Some(colour) = self.background {
            classes.push(format!("ansi-bg-{colour}"));
        }
        for (on, name) in [
            (self.bold, "ansi-bold"),
            (self.dim, "ansi-dim"),
            (self.italic, "ansi-italic"),
            (self.underline, "ansi-underline"),
        ] {
            if on {
                classes.push(name.to_owned());
            }
        }
        classes.join(" ")
    }

    /// Applies one SGR sequence's parameters (`1;31`, `38;5;208`, `0`).
    fn apply(&mut self, parameters: &str) {
        let mut codes = parameters.split([';', ':']).map(|code| code.parse::<u16>().unwrap_or(0));
        // `ESC[m` is a reset.
        if parameters.is_empty() {
            *self = Style::default();
            return;
        }
        while let Some(code) = codes.next() {
            match code {
                0 => *self = Style::default(),
                1 => self.bold = true,
                2 => self.dim = true,
                3 => self.italic = true,
                4 => self.underline = true,
                22 => (self.bold, self.dim) = (false, false),
                23 => self.italic = false,
                24 => self.underline = false,
                30..=37 => self.foreground = Some(palette(code - 30)),
                39 => self.foreground = None,
                40..=47 => self.background = Some(palette(code - 40)),
                49 => self.background = None,
                90..=97 => self.foreground = Some(palette(code - 90 + 8)),
                100..=107 => self.background = Some(palette(code - 100 + 8)),
                38 | 48 => {
                    // 256 colours (`5;n`) keep their first 16, which the stylesheet has; true colour (`2;r;g;b`)
                    // and the rest of the cube are dropped rather than guessed.
                    let colour = match codes.next() {
                        Some(5) => codes.next().filter(|n| *n < 16).map(palette),
                        Some(2) => {
                            codes.by_ref().take(3).for_each(drop);
                            None
                        }
                        _ => None,
                    };
                    if code == 38 {
                        self.foreground = colour;
                    } else {
                        self.background = colour;
                    }
                }
                _ => {}
            }
        }
    }
}

/// A colour number of the 16-colour palette (callers pass only 0–15).
fn palette(code: u16) -> u8 {
    u8::try_from(code.min(15)).unwrap_or(0)
}

/// Splits terminal output into styled runs; escape sequences and control characters other than newlines and
/// tabs are left out. A lone carriage return (a progress bar redrawing its line) becomes a newline.
pub(crate) fn segments(output: &str) -> Vec<Segment> {
    let mut runs = Vec::new();
    let mut style = Style::default();
    let mut text = String::new();
    let mut chars = output.chars().peekable();
    let flush = |runs: &mut Vec<Segment>, text: &mut String, style: &Style| {
        if !text.is_empty() {
            runs.push(Segment { class: style.class(), text: std::mem::take(text) });
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    let mut parameters = String::new();
                    // Parameters and intermediates, then one final byte in @..~.
                    let mut last = None;
                    for next in chars.by_ref() {
                        if ('@'..='~').contains(&next) {
                            last = Some(next);
                            break;
                        }
                        parameters.push(next);
                    }
                    if last == Some('m') {
                        let mut changed = style;
                        changed.apply(&parameters);
                        if changed != style {
                            flush(&mut runs, &mut text, &style);
                            style = changed;
                        }
                    }
                }
                // An OSC (window titles, hyperlinks) runs to BEL or ESC \.
                Some(']') => {
                    while let Some(next) = chars.next() {
                        if next == '\u{7}'
                            || (next == '\u{1b}' && chars.next_if_eq(&'\\').is_some())
                        {
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => text.push('\n'),
            '\n' | '\t' => text.push(c),
            c if c.is_control() => {}
            c => text.push(c),
        }
    }
    flush(&mut runs, &mut text, &style);
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(class: &str, text: &str) -> Segment {
        Segment { class: class.to_owned(), text: text.to_owned() }
    }

    #[test]
    fn colours_become_classes_and_resets_end_them() {
        assert_eq!(
            segments("ok \u{1b}[1;31merror\u{1b}[0m done"),
            [seg("", "ok "), seg("ansi-fg-1 ansi-bold", "error"), seg("", " done")]
        );
        assert_eq!(segments("\u{1b}[92mpass\u{1b}[39m"), [seg("ansi-fg-10", "pass")]);
        assert_eq!(
            segments("\u{1b}[38;5;3my\u{1b}[38;5;208mz"),
            [seg("ansi-fg-3", "y"), seg("", "z")]
        );
        assert_eq!(segments("\u{1b}[38;2;1;2;3;1mb"), [seg("ansi-bold", "b")]);
    }

    #[test]
    fn other_sequences_and_controls_are_dropped() {
        assert_eq!(segments("a\u{1b}[2Kb\u{1b}]0;title\u{7}c\u{7}\u{0}d"), [seg("", "abcd")]);
        assert_eq!(segments("10%\r50%\r\n"), [seg("", "10%\n50%\n")]);
        assert_eq!(
            segments("\u{1b}[31m<script>"),
            [seg("ansi-fg-1", "<script>")],
            "text stays text"
        );
        assert_eq!(segments("\u{1b}["), [], "a cut-off sequence prints nothing");
        assert_eq!(segments(""), []);
    }
}
