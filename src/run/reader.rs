//! Reading a step's stdout and stderr: each pipe on a thread of its own,
//! copied to the step's log and, line by line, to the engine (stdout lines
//! also to the metric [`Collector`]).
//!
//! A pipe can outlive the step: a process that left its group (`setsid`)
//! keeps it open. So a reader polls, and once the executor says the step's
//! processes are gone it reads only what is left ([`DRAIN_IDLE`],
//! [`DRAIN_MAX`]) instead of waiting for an end of file that may never come.
//! A log that cannot be written (a full disk) is remembered, not ignored:
//! [`Reader::log_cut`] turns it into a W0604.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender as Sender;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::metrics::{Collector, Reading};
use super::prepare::StepSpec;
use super::protocol::Msg;
use super::secrets::Masker;
use super::{Stream, warnings};

/// Lines longer than this are cut for the terminal and metric parsing (logs keep everything).
const MAX_LINE: usize = 16 * 1024;

/// Whether every reader reached the end of its pipe within `wait` (each
/// sends once on `ended` when it stops; the channel closes when all have).
pub(crate) fn pipes_closed(ended: &std::sync::mpsc::Receiver<()>, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match ended.recv_timeout(left) {
            Ok(()) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return true,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return false,
        }
    }
}

/// A step's stdout or stderr pipe (one reader type for both).
pub(crate) enum ChildPipe {
    Stdout(std::process::ChildStdout),
    Stderr(std::process::ChildStderr),
}

impl Read for ChildPipe {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            ChildPipe::Stdout(pipe) => pipe.read(buf),
            ChildPipe::Stderr(pipe) => pipe.read(buf),
        }
    }
}

impl AsFd for ChildPipe {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match self {
            ChildPipe::Stdout(pipe) => pipe.as_fd(),
            ChildPipe::Stderr(pipe) => pipe.as_fd(),
        }
    }
}

/// Waits until `pipe` has data (or its end) or `timeout` passes.
fn wait_readable(pipe: &impl AsFd, timeout: Duration) -> Wait {
    let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(pipe.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::from(millis)) {
        Ok(0) => Wait::Idle,
        // Ready, hung up, or poll failed (EINTR): let `read` say which.
        Ok(_) | Err(_) => Wait::Data,
    }
}

/// How long a reader waits for more once the step's processes are gone:
/// what they wrote is already in the pipe, so an idle pipe means that only
/// a process that escaped the step (and its tag) still holds it.
pub(crate) const DRAIN_IDLE: Duration = Duration::from_millis(100);
/// The most a reader reads once the step's processes are gone, however much
/// an escaped process writes. What the step itself wrote before it ended is
/// at most a pipe's capacity (64 KiB, at most `pipe-max-size`, 1 MiB by
/// default): a budget in bytes, not in time, so a slow terminal never cuts
/// the step's own output.
const DRAIN_MAX: u64 = 2 * 1024 * 1024;
/// The most of one line a reader keeps back from the log, to mask it whole.
const MAX_UNLOGGED: usize = 1024 * 1024;
/// How often a reader looks whether the step's processes are gone.
const POLL: Duration = Duration::from_millis(100);

/// Copies one pipe to its log and, line by line, to the engine.
pub(crate) struct Reader {
    step: usize,
    name: String,
    stream: Stream,
    log: File,
    /// Bytes written to the log, and the write that failed (the log is cut there).
    logged: u64,
    log_error: Option<std::io::Error>,
    log_path: std::path::PathBuf,
    pub(crate) collector: Option<Collector>,
    tx: Sender<Msg>,
    pub(crate) last_kfpl_line: Option<String>,
    /// Hides the step's secret values in its log and its lines.
    masker: Masker,
    /// With secrets, the log is written a whole line at a time, masked:
    /// the end of the last line read.
    unlogged: Vec<u8>,
}

/// Why a reader stopped waiting on its pipe.
enum Wait {
    Data,
    Idle,
}

impl Reader {
    pub(crate) fn new(
        spec: &StepSpec,
        stream: Stream,
        log: File,
        collector: Option<Collector>,
        tx: &Sender<Msg>,
    ) -> Reader {
        let log_path = match stream {
            Stream::Stdout => spec.dirs.stdout_log.clone(),
            Stream::Stderr => spec.dirs.stderr_log.clone(),
        };
        Reader {
            step: spec.index,
            name: spec.name.clone(),
            stream,
            log,
            logged: 0,
            log_error: None,
            log_path,
            collector,
            tx: tx.clone(),
            last_kfpl_line: None,
            masker: spec.secrets.masker.clone(),
            unlogged: Vec::new(),
        }
    }

    /// Reads until end of file, or until the step's processes are `gone`
    /// and the pipe has been idle for [`DRAIN_IDLE`] (or [`DRAIN_MAX`] more
    /// bytes were read).
    pub(crate) fn read(mut self, mut pipe: impl Read + AsFd, gone: &AtomicBool) -> Reader {
        let mut buf = vec![0u8; 64 * 1024];
        let mut line = Vec::new();
        let mut overlong = false;
        // Bytes read since the step's processes were found gone.
        let mut drained: Option<u64> = None;
        loop {
            if drained.is_none() && gone.load(Ordering::SeqCst) {
                drained = Some(0);
            }
            if drained.is_some_and(|bytes| bytes >= DRAIN_MAX) {
                break;
            }
            let timeout = if drained.is_some() { DRAIN_IDLE } else { POLL };
            match wait_readable(&pipe, timeout) {
                Wait::Data => {}
                Wait::Idle if drained.is_some() => break,
                Wait::Idle => continue,
            }
            let n = match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            if let Some(bytes) = &mut drained {
                *bytes += n as u64;
            }
            self.log_bytes(&buf[..n]);
            for piece in buf[..n].split_inclusive(|&b| b == b'\n') {
                let (body, ends) = match piece.split_last() {
                    Some((b'\n', body)) => (body, true),
                    _ => (piece, false),
                };
                let room = MAX_LINE.saturating_sub(line.len());
                line.extend_from_slice(&body[..body.len().min(room)]);
                overlong |= body.len() > room;
                if ends {
                    self.emit(&line, overlong);
                    line.clear();
                    overlong = false;
                }
            }
        }
        if !line.is_empty() {
            self.emit(&line, overlong);
        }
        let rest = std::mem::take(&mut self.unlogged);
        self.write_log(&self.masker.mask(&rest));
        self
    }

    /// Appends to the log until a write fails; the failure is kept for [`Reader::log_cut`].
    fn log_bytes(&mut self, bytes: &[u8]) {
        if self.masker.is_empty() {
            return self.write_log(bytes);
        }
        self.unlogged.extend_from_slice(bytes);
        // Whole lines, masked; a line longer than a pipe's worth is cut
        // (a value straddling the cut would not be masked).
        let end = match self.unlogged.iter().rposition(|&b| b == b'\n') {
            Some(at) => at + 1,
            None if self.unlogged.len() > MAX_UNLOGGED => self.unlogged.len(),
            None => return,
        };
        let lines: Vec<u8> = self.unlogged.drain(..end).collect();
        let masked: Vec<u8> = lines
            .split_inclusive(|&b| b == b'\n')
            .flat_map(|line| self.masker.mask(line))
            .collect();
        self.write_log(&masked);
    }

    fn write_log(&mut self, bytes: &[u8]) {
        if self.log_error.is_some() {
            return;
        }
        match self.log.write_all(bytes) {
            Ok(()) => self.logged += bytes.len() as u64,
            Err(e) => self.log_error = Some(e),
        }
    }

    /// W0604 when the log could not be written to the end.
    pub(crate) fn log_cut(&self) -> Option<crate::diagnostics::Diagnostic> {
        let error = self.log_error.as_ref()?;
        Some(warnings::log_cut(
            &self.name,
            &self.log_path,
            self.logged,
            error,
        ))
    }

    fn emit(&mut self, bytes: &[u8], overlong: bool) {
        let masked = self.masker.mask(bytes);
        let mut text = String::from_utf8_lossy(&masked).into_owned();
        if text.ends_with('\r') {
            text.pop();
        }
        if let Some(collector) = &mut self.collector
            && !overlong
            && let Some(Reading::NotANumber { name, text: value }) = collector.line(&text)
        {
            let _ = self.tx.send(Msg::Warning {
                step: self.step,
                warning: Box::new(warnings::metric_not_a_number(&self.name, &name, &value)),
            });
        }
        if self.stream == Stream::Stderr && text.starts_with("kfpl: ") {
            self.last_kfpl_line = Some(text.clone());
        }
        if overlong {
            text.push_str(" […]");
        }
        let _ = self.tx.send(Msg::Line {
            step: self.step,
            stream: self.stream,
            line: text,
        });
    }
}
