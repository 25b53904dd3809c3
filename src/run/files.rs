//! Opening the files a step can tamper with, safely: its outputs and its
//! logs live in folders the step may write, so any of them may have become a
//! FIFO (an open would wait forever for the other end) or a symbolic link (a
//! read or write would go outside the run). Both are opened without blocking
//! and without following a link, and an output must be a regular file.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The bytes of output `name` in the step's `outputs` folder (at most
/// `limit`), `None` when the step never wrote it. Only a regular
/// file is read: the folder itself must not be a symbolic link, the file is
/// opened without following one and without blocking (a FIFO would wait
/// forever for a writer), and what was opened is checked again.
pub(crate) fn read_output(dir: &Path, name: &str, limit: u64) -> Result<Option<Vec<u8>>, String> {
    let not_regular = |kind: &str| {
        format!(
            "output `{name}` is {kind}, not a regular file; write the value to `$KFP_OUTPUTS/{name}`"
        )
    };
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(format!(
                "`$KFP_OUTPUTS` (`{}`) is no longer a folder",
                dir.display()
            ));
        }
        Err(e) => {
            return Err(format!(
                "cannot read `$KFP_OUTPUTS` (`{}`): {e}",
                dir.display()
            ));
        }
    }
    let path = dir.join(name);
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read output `{name}`: {e}")),
        Ok(meta) if !meta.is_file() => return Err(not_regular(file_kind(&meta.file_type()))),
        Ok(_) => {}
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|e| format!("cannot read output `{name}`: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read output `{name}`: {e}"))?;
    if !meta.is_file() {
        return Err(not_regular(file_kind(&meta.file_type())));
    }
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read output `{name}`: {e}"))?;
    Ok(Some(bytes))
}

/// What a file that is not a regular file is, for a message.
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "something else"
    }
}

/// Opens a log for appending. Without blocking and without following a
/// link: a step may replace its own log with a FIFO or a link (the folder is
/// its parent), and kfpl must neither hang on the one nor write through the
/// other.
pub(crate) fn append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOFOLLOW)
        .open(path)
}
