//! Writing results: text for people, JSON for scripts; warnings on stderr.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where results go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    json: bool,
}

impl Out {
    pub(crate) fn new(json: bool) -> Self {
        Self { json }
    }

    pub(crate) fn json(&self) -> bool {
        self.json
    }

    /// A line of text on stdout (a closed pipe is not an error: `weir queues | head`).
    pub(crate) fn line(&self, text: impl AsRef<str>) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{}", text.as_ref());
    }

    /// A JSON document on one line of stdout.
    pub(crate) fn value(&self, value: &serde_json::Value) {
        self.line(value.to_string());
    }

    /// A warning on stderr (shown in JSON mode too: stdout stays clean).
    pub(crate) fn warn(&self, text: impl AsRef<str>) {
        eprintln!("weir: warning: {}", text.as_ref());
    }

    /// A note on stderr (what happened beside the result: stdout keeps the result alone).
    pub(crate) fn note(&self, text: impl AsRef<str>) {
        eprintln!("weir: {}", text.as_ref());
    }

    /// A progress bar on stderr, hidden with `--json` or when stderr is not a terminal.
    pub(crate) fn progress(&self, len: Option<u64>, prefix: &str) -> ProgressBar {
        let bar = match len {
            Some(n) => ProgressBar::with_draw_target(Some(n), self.draw_target()),
            None => ProgressBar::with_draw_target(None, self.draw_target()),
        };
        let template = if len.is_some() {
            "{prefix:>10} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})"
        } else {
            "{prefix:>10} {spinner} {pos} ({per_sec})"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(prefix.to_owned());
        bar
    }

    pub(crate) fn draw_target(&self) -> ProgressDrawTarget {
        if self.json || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        }
    }
}
