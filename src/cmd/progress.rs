//! Progress renderers on stderr (stdout with `COMPOSE_STATUS_STDOUT`): the reference's live view
//! on a terminal (`[+] Running N/M`, a line per resource with a spinner and a timer, redrawn in
//! place and kept within the terminal's height), one line per event otherwise, the reference's
//! JSON objects, or nothing.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::ProgressMode;
use crate::runtime::{Event, Reporter, Status};

/// The reference's spinner frames, one per redraw (every 100 ms).
const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const TICK: Duration = Duration::from_millis(100);

/// Renders progress events in the chosen mode.
#[derive(Clone)]
pub struct Renderer {
    mode: ProgressMode,
    /// `--dry-run`: every line says so, as the reference's do.
    dry_run: bool,
    /// `COMPOSE_STATUS_STDOUT`: progress on standard output.
    to_stdout: bool,
    view: Arc<Mutex<View>>,
    /// Set while a thread redraws the view every [`TICK`].
    ticking: Arc<AtomicBool>,
    /// Which redrawing thread is the current one (an older one ends).
    generation: Arc<AtomicU64>,
    /// Set once logs share the terminal: one line per event from then on.
    plain: Arc<AtomicBool>,
    /// Set while attached `up` starts its containers: as the reference's, its view shows the
    /// creation only (starts and health waits pass silently; errors still show).
    creation_only: Arc<AtomicBool>,
}

/// The start phase's words, which attached `up` does not show.
const START_WORDS: [&str; 5] = ["Starting", "Started", "Waiting", "Healthy", "Exited"];

/// One resource's line in the live view.
#[derive(Debug, Clone)]
struct Task {
    id: String,
    text: String,
    status: Status,
    start: Instant,
    end: Option<Instant>,
    /// Redraws seen while working: the spinner's frame.
    frames: usize,
}

/// The live view: the tasks in the order they first appeared, and how many lines the last frame
/// took on the screen (the cursor goes that many lines up to redraw it).
#[derive(Debug, Default)]
struct View {
    title: Option<&'static str>,
    tasks: Vec<Task>,
    drawn: usize,
}

/// What a frame is drawn for: its size, and whether colours are on.
#[derive(Debug, Clone, Copy)]
struct Screen {
    width: usize,
    /// Rows of the terminal; 0 when unknown (no limit).
    height: usize,
    colour: bool,
    dry_run: bool,
}

impl Renderer {
    pub fn new(mode: ProgressMode) -> Self {
        let to_stdout = std::env::var("COMPOSE_STATUS_STDOUT").is_ok_and(|v| truthy(&v));
        Renderer {
            mode,
            dry_run: false,
            to_stdout,
            view: Arc::default(),
            ticking: Arc::default(),
            generation: Arc::default(),
            plain: Arc::default(),
            creation_only: Arc::default(),
        }
    }

    fn line(&self, text: &str) {
        if self.to_stdout {
            println!("{text}");
        } else {
            eprintln!("{text}");
        }
    }

    /// The same renderer, marking each line ` DRY-RUN MODE - `.
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// The word of the view's header (`[+] Stopping 2/2`): `Running` unless set, as the
    /// reference titles each command's view.
    pub fn title(&self, title: &'static str) {
        if let Ok(mut v) = self.view.lock() {
            v.title = Some(title);
        }
    }

    fn mark(&self) -> &'static str {
        if self.dry_run {
            " DRY-RUN MODE - "
        } else {
            ""
        }
    }

    pub fn reporter(&self) -> Reporter {
        let me = self.clone();
        Arc::new(move |e| me.show(e))
    }

    /// Whether the start phase's events are hidden (attached `up`), from now on.
    pub fn creation_only(&self, on: bool) {
        self.creation_only.store(on, Ordering::SeqCst);
    }

    fn show(&self, e: Event) {
        if self.creation_only.load(Ordering::SeqCst)
            && e.status != Status::Error
            && START_WORDS.contains(&e.text.as_str())
        {
            return;
        }
        match self.mode {
            ProgressMode::Quiet => {}
            ProgressMode::Json => self.line(&json_line(&e, self.dry_run)),
            ProgressMode::Tty if !self.plain.load(Ordering::SeqCst) => self.show_tty(e),
            _ => self.line(&format!("{} {}  {}", self.mark(), e.resource, e.text)),
        }
    }

    fn show_tty(&self, e: Event) {
        let Ok(mut view) = self.view.lock() else {
            return;
        };
        view.update(e, Instant::now());
        drop(view);
        if !self.ticking.swap(true, Ordering::SeqCst) {
            let me = self.clone();
            let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
            let spawned = std::thread::Builder::new()
                .name("progress".into())
                .spawn(move || {
                    while me.ticking.load(Ordering::SeqCst)
                        && me.generation.load(Ordering::SeqCst) == generation
                    {
                        me.draw(false);
                        std::thread::sleep(TICK);
                    }
                });
            if spawned.is_err() {
                self.ticking.store(false, Ordering::SeqCst);
            }
        }
    }

    fn screen(&self) -> Screen {
        let term = if self.to_stdout {
            console::Term::stdout()
        } else {
            console::Term::stderr()
        };
        let (rows, cols) = term.size_checked().unwrap_or((0, 80));
        let colour = if self.to_stdout {
            console::colors_enabled()
        } else {
            console::colors_enabled_stderr()
        };
        Screen {
            width: usize::from(cols).max(20),
            height: usize::from(rows),
            colour,
            dry_run: self.dry_run,
        }
    }

    /// Redraws the view in place; `last` draws every resource once, whatever the height, and
    /// leaves the view (the next event starts a new one below it).
    fn draw(&self, last: bool) {
        let Ok(mut view) = self.view.lock() else {
            return;
        };
        if view.tasks.is_empty() {
            return;
        }
        let screen = self.screen();
        let lines = view.frame(Instant::now(), screen, last);
        let mut out = String::new();
        if view.drawn > 0 {
            out.push_str(&format!("\x1b[{}A", view.drawn));
        }
        out.push_str("\r\x1b[?25l");
        for l in &lines {
            out.push_str(l);
            out.push_str("\r\n");
        }
        out.push_str("\x1b[J\x1b[?25h");
        let written = if self.to_stdout {
            let mut o = std::io::stdout().lock();
            o.write_all(out.as_bytes()).and_then(|_| o.flush())
        } else {
            let mut o = std::io::stderr().lock();
            o.write_all(out.as_bytes()).and_then(|_| o.flush())
        };
        let _ = written;
        if last {
            *view = View::default();
        } else {
            view.drawn = lines.len();
        }
    }

    /// From now on one line per event (the logs of attached `up` share the terminal): the
    /// live view is drawn a last time and left.
    pub fn plain_from_now(&self) {
        self.finish();
        self.plain.store(true, Ordering::SeqCst);
    }

    /// Draws the view's final state (every resource once) and stops redrawing, before other
    /// output takes the terminal; a later event starts a new view.
    pub fn finish(&self) {
        if self.mode != ProgressMode::Tty {
            return;
        }
        self.ticking.store(false, Ordering::SeqCst);
        self.draw(true);
    }
}

impl View {
    fn update(&mut self, e: Event, now: Instant) {
        let finished = e.status != Status::Working;
        match self.tasks.iter_mut().find(|t| t.id == e.resource) {
            Some(t) => {
                if t.status != Status::Working && !finished {
                    // A new step on a finished resource: its timer starts again.
                    t.start = now;
                }
                t.status = e.status;
                t.text = e.text;
                t.end = finished.then_some(now);
            }
            None => self.tasks.push(Task {
                id: e.resource,
                text: e.text,
                status: e.status,
                start: now,
                end: finished.then_some(now),
                frames: 0,
            }),
        }
    }

    /// The lines of one frame: the header, then a line per resource. While live, a view taller
    /// than the terminal shows the resources still working (and errors) and fills the rest with
    /// the ones that finished last, so that it can be redrawn in place; `all` shows every one.
    fn frame(&mut self, now: Instant, s: Screen, all: bool) -> Vec<String> {
        let done = self
            .tasks
            .iter()
            .filter(|t| t.status != Status::Working)
            .count();
        let total = self.tasks.len();
        let header = format!("[+] {} {done}/{total}", self.title.unwrap_or("Running"));
        let header = if done == total {
            paint(&header, "\x1b[34m", s.colour)
        } else {
            header
        };
        let mut lines = vec![header];
        let id_width = self
            .tasks
            .iter()
            .map(|t| t.id.chars().count())
            .max()
            .unwrap_or(0);
        let room = if all || s.height == 0 {
            usize::MAX
        } else {
            s.height.saturating_sub(2).max(1)
        };
        let shown = visible(&self.tasks, room);
        let hidden = total - shown.len();
        for (i, t) in self.tasks.iter_mut().enumerate() {
            if t.status == Status::Working {
                t.frames += 1;
            }
            if shown.contains(&i) {
                lines.push(task_line(t, now, id_width, s));
            }
        }
        if hidden > 0 {
            let more = format!("   … {hidden} more");
            lines.push(paint(&more, "\x1b[2m", s.colour));
        }
        lines
    }
}

/// Which tasks fit in `room` lines: all when they fit; otherwise the ones not done (the first
/// `room - 1`, a line telling how many are left out), then the ones done last.
fn visible(tasks: &[Task], room: usize) -> Vec<usize> {
    if tasks.len() <= room {
        return (0..tasks.len()).collect();
    }
    let room = room.saturating_sub(1);
    let mut shown: Vec<usize> = (0..tasks.len())
        .filter(|&i| tasks[i].status != Status::Done)
        .take(room)
        .collect();
    let mut done: Vec<usize> = (0..tasks.len())
        .filter(|&i| tasks[i].status == Status::Done)
        .collect();
    done.sort_by_key(|&i| std::cmp::Reverse(tasks[i].end));
    let left = room - shown.len();
    shown.extend(done.into_iter().take(left));
    shown.sort_unstable();
    shown
}

/// One resource's line, as the reference draws it: ` ⠋ Container p-web-1  Starting`, the
/// status column after the longest name, the timer (`1.2s`) right-aligned; an error's text is
/// cut to fit the line.
fn task_line(t: &Task, now: Instant, id_width: usize, s: Screen) -> String {
    let (mark, colour) = match t.status {
        Status::Working => (SPINNER[t.frames % SPINNER.len()], "\x1b[33m"),
        Status::Done => ('✔', "\x1b[32m"),
        Status::Warning => ('!', "\x1b[33m"),
        Status::Error => ('✘', "\x1b[31m\x1b[1m"),
    };
    let end = t.end.unwrap_or(now);
    let timer = format!(
        "{:.1}s ",
        end.saturating_duration_since(t.start).as_secs_f64()
    );
    let prefix = if s.dry_run { " DRY-RUN MODE - " } else { "" };
    let id_len = t.id.chars().count();
    let pad = " ".repeat(id_width + 2 - id_len);
    let mut status = t.text.clone();
    let max_status = s
        .width
        .saturating_sub(prefix.len() + id_len + id_width + 2 + 15);
    if max_status > 0 && status.chars().count() > max_status {
        status = status.chars().take(max_status).collect::<String>() + "...";
    }
    let left_len = 3 + prefix.len() + id_len + pad.len() + status.chars().count();
    let gap = s.width.saturating_sub(left_len + timer.len()).max(1);
    let status = match t.status {
        Status::Working => status,
        _ => paint(&status, colour, s.colour),
    };
    let mut line = format!(
        " {}{} {}{pad}{status}{}{}",
        paint(&mark.to_string(), colour, s.colour),
        paint(prefix, "\x1b[36m", s.colour),
        t.id,
        " ".repeat(gap),
        paint(&timer, "\x1b[34m", s.colour),
    );
    if left_len + gap + timer.len() > s.width {
        // Narrower than the name itself: cut, so that the line never wraps.
        line = console::truncate_str(&line, s.width, "").into_owned();
    }
    line
}

/// `text` in an SGR colour, reset after, when colours are on.
fn paint(text: &str, sgr: &str, colour: bool) -> String {
    if colour && !text.is_empty() {
        format!("{sgr}{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Go's `strconv.ParseBool` truths, as the reference reads its boolean variables.
fn truthy(v: &str) -> bool {
    matches!(v, "1" | "t" | "T" | "TRUE" | "true" | "True")
}

/// One event as the reference's `--progress json` writes it: `{"id":..,"status":..}` with the
/// status text, `"dry-run":true` first in a dry run.
fn json_line(e: &Event, dry_run: bool) -> String {
    let mut line = String::from("{");
    if dry_run {
        line.push_str("\"dry-run\":true,");
    }
    let id = serde_json::Value::from(e.resource.as_str());
    let status = serde_json::Value::from(e.text.as_str());
    line.push_str(&format!("\"id\":{id},\"status\":{status}"));
    if let Some(n) = e.current {
        line.push_str(&format!(",\"current\":{n}"));
    }
    line.push('}');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_are_the_references() {
        let mut e = Event {
            resource: "Container p-web-1".into(),
            status: Status::Done,
            text: "Started".into(),
            current: None,
        };
        assert_eq!(
            json_line(&e, false),
            r#"{"id":"Container p-web-1","status":"Started"}"#
        );
        assert_eq!(
            json_line(&e, true),
            r#"{"dry-run":true,"id":"Container p-web-1","status":"Started"}"#
        );
        assert!(truthy("true") && truthy("1") && !truthy("yes"));
        // A copy's bytes, as the reference's `current` (backup, restore).
        e.resource = "Volume p_data".into();
        e.text = "Backing up 1.5MB in 0.5s (3MB/s)".into();
        e.current = Some(1_500_000);
        assert_eq!(
            json_line(&e, false),
            r#"{"id":"Volume p_data","status":"Backing up 1.5MB in 0.5s (3MB/s)","current":1500000}"#
        );
    }

    fn event(resource: &str, status: Status, text: &str) -> Event {
        Event {
            resource: resource.into(),
            status,
            text: text.into(),
            current: None,
        }
    }

    const PLAIN: Screen = Screen {
        width: 100,
        height: 0,
        colour: false,
        dry_run: false,
    };

    /// The reference's lines: the status column two after the longest name, the timer
    /// right-aligned with a space after it, the header counting what is no longer working.
    #[test]
    fn a_frame_is_drawn_as_the_references() {
        let t0 = Instant::now();
        let mut v = View::default();
        v.update(event("Network p_default", Status::Working, "Creating"), t0);
        v.update(
            event("Container p-longername-1", Status::Working, "Starting"),
            t0,
        );
        v.update(
            event("Network p_default", Status::Done, "Created"),
            t0 + Duration::from_millis(120),
        );
        let lines = v.frame(t0 + Duration::from_millis(800), PLAIN, false);
        assert_eq!(lines[0], "[+] Running 1/2");
        assert_eq!(
            lines[1],
            format!(
                " ✔ Network p_default         Created{}0.1s ",
                " ".repeat(59)
            )
        );
        assert!(
            lines[2].starts_with(" ⠙ Container p-longername-1  Starting "),
            "{}",
            lines[2]
        );
        assert!(lines[2].ends_with(" 0.8s "));
        assert!(
            lines[1..].iter().all(|l| l.chars().count() == 100),
            "{lines:?}"
        );
        v.title = Some("Stopping");
        let lines = v.frame(t0 + Duration::from_millis(900), PLAIN, false);
        assert!(
            lines[2].starts_with(" ⠹ "),
            "the spinner turns on each redraw"
        );
        v.update(
            event("Container p-longername-1", Status::Error, &"x".repeat(90)),
            t0,
        );
        let lines = v.frame(t0, PLAIN, false);
        assert_eq!(lines[0], "[+] Stopping 2/2");
        assert!(
            lines[2].contains("xxx..."),
            "a long error is cut: {}",
            lines[2]
        );
        assert!(lines[2].chars().count() <= 100);
    }

    /// Taller than the terminal: the live frame keeps within its height (the resources still
    /// working first, a line saying how many are left out); the last frame shows every one.
    #[test]
    fn a_tall_view_keeps_within_the_terminal() {
        let t0 = Instant::now();
        let mut v = View::default();
        for i in 0..40 {
            v.update(
                event(
                    &format!("Container p-s{i:02}-1"),
                    Status::Working,
                    "Starting",
                ),
                t0,
            );
        }
        for i in 0..10 {
            let at = t0 + Duration::from_millis(i);
            v.update(
                event(&format!("Container p-s{i:02}-1"), Status::Done, "Started"),
                at,
            );
        }
        let screen = Screen {
            height: 20,
            ..PLAIN
        };
        let lines = v.frame(t0, screen, false);
        assert_eq!(lines.len(), 19, "{lines:#?}");
        assert_eq!(lines[0], "[+] Running 10/40");
        assert!(lines[1].contains("p-s10-1") && lines[1].contains("Starting"));
        assert!(lines[18].contains("… 23 more"), "{}", lines[18]);
        for i in 30..40 {
            v.update(
                event(&format!("Container p-s{i:02}-1"), Status::Done, "Started"),
                t0,
            );
        }
        let lines = v.frame(t0, screen, false);
        assert!(lines.len() <= 19);
        let working = lines.iter().filter(|l| l.contains("Starting")).count();
        assert_eq!(
            working, 17,
            "every working one before the finished ones: {lines:#?}"
        );
        let all = v.frame(t0, screen, true);
        assert_eq!(all.len(), 41);
    }
}
