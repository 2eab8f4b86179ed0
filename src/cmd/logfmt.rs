//! Log lines as docker compose prints them: `name  | line`, the name padded to the longest and
//! coloured per container in the reference's rotation, written through one buffer per stream.

use std::collections::HashMap;
use std::io::{BufWriter, Write};

use crate::runtime::Stream;

/// How lines are shown.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Style {
    pub colour: bool,
    pub prefix: bool,
    /// stderr lines go to stderr (attached `up`); otherwise everything goes to stdout (`logs`).
    pub split_streams: bool,
}

/// Writes prefixed lines; flush before waiting for more.
pub(super) struct Printer {
    project: String,
    style: Style,
    width: usize,
    prefixes: HashMap<String, Vec<u8>>,
    colours: HashMap<String, usize>,
    out: BufWriter<std::io::Stdout>,
    err: BufWriter<std::io::Stderr>,
}

fn palette(i: usize) -> console::Style {
    let s = console::Style::new();
    let s = match i % 5 {
        0 => s.cyan(),
        1 => s.yellow(),
        2 => s.green(),
        3 => s.magenta(),
        _ => s.blue(),
    };
    if (i / 5) % 2 == 1 {
        s.bold()
    } else {
        s
    }
}

impl Printer {
    pub(super) fn new(project: &str, containers: &[String], style: Style) -> Printer {
        let mut p = Printer {
            project: project.to_string(),
            style,
            width: 0,
            prefixes: HashMap::new(),
            colours: HashMap::new(),
            out: BufWriter::with_capacity(64 << 10, std::io::stdout()),
            err: BufWriter::with_capacity(8 << 10, std::io::stderr()),
        };
        for c in containers {
            p.register(c);
        }
        p
    }

    /// The name shown for a container: without the `project-` prefix.
    pub(super) fn short<'a>(&self, container: &'a str) -> &'a str {
        container
            .strip_prefix(&self.project)
            .and_then(|r| r.strip_prefix('-'))
            .unwrap_or(container)
    }

    fn register(&mut self, container: &str) {
        if self.colours.contains_key(container) {
            return;
        }
        let n = self.colours.len();
        self.colours.insert(container.to_string(), n);
        let w = self.short(container).len();
        if w > self.width {
            self.width = w;
            self.prefixes.clear();
        }
    }

    fn prefix(&mut self, container: &str) -> &[u8] {
        self.register(container);
        if !self.prefixes.contains_key(container) {
            let text = if self.style.prefix {
                let p = format!("{:<w$}  | ", self.short(container), w = self.width);
                if self.style.colour {
                    palette(self.colours[container])
                        .apply_to(p)
                        .force_styling(true)
                        .to_string()
                } else {
                    p
                }
            } else {
                String::new()
            };
            self.prefixes
                .insert(container.to_string(), text.into_bytes());
        }
        &self.prefixes[container]
    }

    /// Writes whole lines (each ending with `\n`), each behind the container's prefix.
    pub(super) fn lines(&mut self, container: &str, stream: Stream, data: &[u8]) {
        let prefix = self.prefix(container).to_vec();
        let to_err = self.style.split_streams && stream == Stream::Stderr;
        if to_err {
            // What came before on stdout shows before this, as the container wrote them.
            let _ = self.out.flush();
        }
        let w: &mut dyn Write = if to_err { &mut self.err } else { &mut self.out };
        for line in data.split_inclusive(|b| *b == b'\n') {
            let _ = w.write_all(&prefix);
            let _ = w.write_all(line);
        }
        if to_err {
            let _ = self.err.flush();
        }
    }

    /// `name exited with code N`, as the reference prints it.
    pub(super) fn exited(&mut self, container: &str, code: i64) {
        let _ = writeln!(
            self.out,
            "{} exited with code {code}",
            self.short(container)
        );
    }

    /// A line of rcompose's own on stdout (`Attaching to ...`).
    pub(super) fn note(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }

    /// Prints one event of the log streams: its lines, or its `exited with code` line.
    pub(super) fn event(&mut self, ev: &crate::runtime::LogEvent) {
        use crate::runtime::LogEvent;
        match ev {
            LogEvent::Lines {
                container,
                stream,
                data,
            } => self.lines(container, *stream, data),
            LogEvent::Exited { container, code } => self.exited(container, *code),
            LogEvent::End { .. } => {}
        }
    }

    pub(super) fn flush(&mut self) {
        let _ = self.out.flush();
        let _ = self.err.flush();
    }
}
