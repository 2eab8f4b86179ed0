//! Progress renderers on stderr: a live line per resource on a terminal (indicatif), one line per
//! event otherwise, JSON lines, or nothing.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::ProgressMode;
use crate::runtime::{Event, Reporter, Status};

/// Renders progress events in the chosen mode.
#[derive(Clone)]
pub struct Renderer {
    mode: ProgressMode,
    multi: MultiProgress,
    bars: Arc<Mutex<HashMap<String, ProgressBar>>>,
}

impl Renderer {
    pub fn new(mode: ProgressMode) -> Self {
        Renderer {
            mode,
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Arc::default(),
        }
    }

    pub fn reporter(&self) -> Reporter {
        let me = self.clone();
        Arc::new(move |e| me.show(e))
    }

    fn show(&self, e: Event) {
        match self.mode {
            ProgressMode::Quiet => {}
            ProgressMode::Json => {
                let status = match e.status {
                    Status::Working => "Working",
                    Status::Done => "Done",
                    Status::Warning => "Warning",
                    Status::Error => "Error",
                };
                let line = serde_json::json!({"id": e.resource, "status": status, "text": e.text});
                eprintln!("{line}");
            }
            ProgressMode::Tty => self.show_tty(e),
            _ => eprintln!(" {}  {}", e.resource, e.text),
        }
    }

    fn show_tty(&self, e: Event) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        let bar = bars.entry(e.resource.clone()).or_insert_with(|| {
            let b = self.multi.add(ProgressBar::new_spinner());
            b.set_style(
                ProgressStyle::with_template(
                    " {spinner:.cyan} {prefix} {wide_msg} {elapsed:>4.dim}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.set_prefix(e.resource.clone());
            b.enable_steady_tick(Duration::from_millis(100));
            b
        });
        match e.status {
            Status::Working => bar.set_message(e.text),
            Status::Done => {
                bar.set_style(
                    ProgressStyle::with_template(
                        " {prefix:.green} {wide_msg:.green} {elapsed:>4.dim}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(format!("✔ {}", e.resource));
                bar.finish_with_message(e.text);
            }
            Status::Warning | Status::Error => {
                bar.set_style(
                    ProgressStyle::with_template(" {prefix:.red} {wide_msg:.red} {elapsed:>4.dim}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(format!("✘ {}", e.resource));
                bar.finish_with_message(e.text);
            }
        }
    }

    /// Stops every spinner (before other output takes the terminal).
    pub fn finish(&self) {
        if let Ok(bars) = self.bars.lock() {
            for b in bars.values() {
                if !b.is_finished() {
                    b.finish();
                }
            }
        }
    }
}
