//! Ctrl-C without signal handlers: SIGINT, SIGTERM and SIGHUP are blocked on
//! the running thread (and so on every thread it starts) and read, when the
//! engine looks, from a non-blocking signalfd. No unsafe code and no
//! async-signal-safety concerns. Child processes get an empty signal mask
//! back: Rust's `Command` resets the mask (and SIGPIPE) in the child before
//! exec, so steps see SIGTERM as usual.

use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// Blocks the signals while alive; restores the previous mask when dropped.
#[derive(Debug)]
pub(crate) struct Signals {
    fd: SignalFd,
    previous: SigSet,
}

impl Signals {
    /// Blocks SIGINT, SIGTERM and SIGHUP on this thread and opens the signalfd.
    pub(crate) fn block() -> nix::Result<Signals> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.add(Signal::SIGTERM);
        set.add(Signal::SIGHUP);
        let mut previous = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut previous))?;
        let fd = match SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC) {
            Ok(fd) => fd,
            Err(error) => {
                let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&previous), None);
                return Err(error);
            }
        };
        Ok(Signals { fd, previous })
    }

    /// A signal that arrived since the last look, if any.
    pub(crate) fn pending(&self) -> Option<Signal> {
        match self.fd.read_signal() {
            Ok(Some(info)) => Signal::try_from(info.ssi_signo as i32).ok(),
            Ok(None) | Err(_) => None,
        }
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        // Drain what arrived after the run ended, so unblocking cannot kill us
        // on the way to printing the summary.
        while self.pending().is_some() {}
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&self.previous), None);
    }
}
