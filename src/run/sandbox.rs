//! `kfpl __sandbox-exec`: run one step's command with its `data` claims at
//! their mount paths, in a private mount namespace, without touching the
//! real file system.
//!
//! The step is spawned as this hidden subcommand (a fresh, single-threaded
//! process), which:
//! 1. enters a new mount namespace: `unshare(CLONE_NEWNS)` when it may (root,
//!    or CAP_SYS_ADMIN), else `unshare(CLONE_NEWUSER | CLONE_NEWNS)` with the
//!    caller's uid and gid mapped to themselves (unprivileged user
//!    namespaces), then makes every mount private (`MS_REC | MS_PRIVATE`) so
//!    nothing propagates back to the host;
//! 2. builds a new root on a tmpfs mounted on the step's `root/` folder
//!    (made unbindable, so recursive binds do not copy it into itself): for
//!    each entry of `/`, an empty directory or file with the same name and a
//!    recursive bind of the original onto it (symbolic links are copied);
//! 3. for each claim (shortest mount path first), creates the missing
//!    directories of its mount path in that tmpfs and binds the claim's
//!    folder there. When the deepest existing directory of the path comes
//!    from the host (`/mnt` for `/mnt/data/x`), it is shadowed first: a
//!    tmpfs over it in the new root, holding binds of its original entries;
//! 4. `chroot`s into the new root, changes to the step's working directory,
//!    asks for SIGKILL should kfpl die (`PR_SET_PDEATHSIG`), and execs the
//!    command (same process, so the same process group). Rust's exec resets
//!    the signal mask.
//!
//! So `/training` exists only inside the step: the host's `/` is never
//! written. When the machine allows none of this, [`probe`] says why before
//! the run starts. Failures print one `kfpl: …` line on stderr and exit
//! with 125 (set-up) or 127 (command not found).

use std::ffi::OsString;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Component, Path, PathBuf};

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{chdir, chroot, getgid, getuid};

/// What to set up and run.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// An empty folder to build the new root on.
    pub root: PathBuf,
    /// The working directory, as seen from the host (and so from the new root).
    pub cwd: PathBuf,
    /// Claim folder → mount path.
    pub mounts: Vec<(PathBuf, PathBuf)>,
    /// Mount paths made read-only once mounted (secrets).
    pub read_only: Vec<PathBuf>,
    /// The command and its arguments.
    pub command: Vec<OsString>,
}

/// Why the sandbox could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxError {
    /// What failed, for the step's log.
    pub message: String,
    /// Whether the command itself was not found (exit 127), not the set-up.
    pub not_found: bool,
}

impl SandboxError {
    fn setup(message: String) -> SandboxError {
        SandboxError {
            message,
            not_found: false,
        }
    }

    /// The exit status `kfpl __sandbox-exec` ends with.
    pub fn exit_code(&self) -> u8 {
        if self.not_found { 127 } else { 125 }
    }
}

/// Whether this machine lets kfpl make a private mount namespace and mount a
/// tmpfs in it, trying on `root` (an empty folder). Run in a child process:
/// it changes the calling process's namespaces.
pub fn probe(root: &Path) -> Result<(), SandboxError> {
    enter_namespace()?;
    mount_tmpfs(root)?;
    Ok(())
}

/// Sets everything up and execs the command; returns only on failure.
pub fn exec(sandbox: &Sandbox) -> SandboxError {
    match setup(sandbox) {
        Ok(()) => {}
        Err(error) => return error,
    }
    let Some((program, args)) = sandbox.command.split_first() else {
        return SandboxError::setup("no command to run".into());
    };
    let error = std::process::Command::new(program).args(args).exec();
    let name = program.to_string_lossy();
    if error.kind() == std::io::ErrorKind::NotFound {
        SandboxError {
            message: format!("command `{name}` not found"),
            not_found: true,
        }
    } else {
        SandboxError::setup(format!("cannot run `{name}`: {error}"))
    }
}

fn setup(sandbox: &Sandbox) -> Result<(), SandboxError> {
    enter_namespace()?;
    let root = &sandbox.root;
    mount_tmpfs(root)?;
    mount(
        None::<&str>,
        root,
        None::<&str>,
        MsFlags::MS_UNBINDABLE,
        None::<&str>,
    )
    .map_err(|e| {
        SandboxError::setup(format!("cannot make `{}` unbindable: {e}", root.display()))
    })?;
    mirror_entries(Path::new("/"), root)?;
    let mut mounts = sandbox.mounts.clone();
    mounts.sort_by_key(|(_, path)| path.components().count());
    let mut builder = Builder {
        root: root.clone(),
        writable: vec![PathBuf::from("/")],
        claims: Vec::new(),
    };
    for (claim, path) in &mounts {
        builder.mount_claim(claim, path)?;
    }
    for path in &sandbox.read_only {
        remount_read_only(&builder.inside(path))?;
    }
    chroot(root).map_err(|e| {
        SandboxError::setup(format!("cannot chroot into `{}`: {e}", root.display()))
    })?;
    chdir(&sandbox.cwd).map_err(|e| {
        SandboxError::setup(format!("cannot enter `{}`: {e}", sandbox.cwd.display()))
    })?;
    // Should kfpl die (kill -9), do not outlive it.
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    Ok(())
}

/// A private mount namespace, through a user namespace when not privileged.
fn enter_namespace() -> Result<(), SandboxError> {
    let uid = getuid();
    let gid = getgid();
    if let Err(plain) = unshare(CloneFlags::CLONE_NEWNS) {
        unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS).map_err(|user| {
            SandboxError::setup(format!(
                "cannot create a private mount namespace ({plain}) nor a user namespace for one ({user})"
            ))
        })?;
        let write = |file: &str, text: String| {
            fs::write(file, text).map_err(|e| {
                SandboxError::setup(format!(
                    "cannot write `{file}` in the new user namespace: {e}"
                ))
            })
        };
        // Older kernels have no setgroups file; the gid map works without it there.
        let _ = fs::write("/proc/self/setgroups", "deny");
        write("/proc/self/uid_map", format!("{uid} {uid} 1\n"))?;
        write("/proc/self/gid_map", format!("{gid} {gid} 1\n"))?;
    }
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| SandboxError::setup(format!("cannot make the mounts private: {e}")))
}

fn mount_tmpfs(target: &Path) -> Result<(), SandboxError> {
    mount(
        Some("tmpfs"),
        target,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0755"),
    )
    .map_err(|e| {
        SandboxError::setup(format!(
            "cannot mount a tmpfs on `{}`: {e}",
            target.display()
        ))
    })
}

/// Fills `into` (a fresh tmpfs) with the entries of host directory `from`:
/// binds of directories and files, copies of symbolic links.
fn mirror_entries(from: &Path, into: &Path) -> Result<(), SandboxError> {
    let read =
        |e: std::io::Error| SandboxError::setup(format!("cannot read `{}`: {e}", from.display()));
    let mut entries: Vec<_> = fs::read_dir(from)
        .map_err(read)?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let source = entry.path();
        let target = into.join(entry.file_name());
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let made = if kind.is_symlink() {
            fs::read_link(&source).and_then(|link| std::os::unix::fs::symlink(link, &target))
        } else if kind.is_dir() {
            fs::create_dir(&target)
        } else if kind.is_file() {
            fs::File::create(&target).map(drop)
        } else {
            // Sockets, fifos and devices directly under a shadowed folder: left out.
            continue;
        };
        match made {
            // Removed since it was listed (another program's temporary
            // folder, say): as if it had been listed a moment later.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(SandboxError::setup(format!(
                    "cannot create `{}`: {e}",
                    target.display()
                )));
            }
            Ok(()) => {}
        }
        if kind.is_symlink() {
            continue;
        }
        let bound = mount(
            Some(&source),
            &target,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        );
        if bound == Err(nix::errno::Errno::ENOENT) && !source.exists() {
            continue; // removed between the listing and the bind, likewise
        }
        bound.map_err(|e| {
            SandboxError::setup(format!(
                "cannot bind `{}` onto `{}`: {e}",
                source.display(),
                target.display()
            ))
        })?;
    }
    Ok(())
}

fn bind(source: &Path, target: &Path) -> Result<(), SandboxError> {
    mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| {
        SandboxError::setup(format!(
            "cannot bind `{}` onto `{}`: {e}",
            source.display(),
            target.display()
        ))
    })
}

/// Makes a bind mount read-only, keeping the flags a user namespace may
/// not drop (`nosuid`, `nodev`, `noexec`, …).
fn remount_read_only(target: &Path) -> Result<(), SandboxError> {
    let kept = nix::sys::statvfs::statvfs(target)
        .map(|stat| {
            let flags = stat.flags();
            let mut kept = MsFlags::empty();
            use nix::sys::statvfs::FsFlags;
            for (fs, ms) in [
                (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
                (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
                (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
                (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
                (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
                (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
            ] {
                if flags.contains(fs) {
                    kept |= ms;
                }
            }
            kept
        })
        .unwrap_or(MsFlags::empty());
    mount(
        None::<&str>,
        target,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | kept,
        None::<&str>,
    )
    .map_err(|e| SandboxError::setup(format!("cannot make `{}` read-only: {e}", target.display())))
}

/// The new root being built.
struct Builder {
    root: PathBuf,
    /// Paths (as seen in the step) of folders that are ours: creating in them touches no host file.
    writable: Vec<PathBuf>,
    /// Mount paths of claims bound so far (creating inside a claim is the volume's business).
    claims: Vec<PathBuf>,
}

impl Builder {
    fn inside(&self, path: &Path) -> PathBuf {
        self.root.join(path.strip_prefix("/").unwrap_or(path))
    }

    fn is_ours(&self, path: &Path) -> bool {
        self.writable.iter().any(|w| w == path) || self.claims.iter().any(|c| path.starts_with(c))
    }

    fn mount_claim(&mut self, claim: &Path, path: &Path) -> Result<(), SandboxError> {
        let parts: Vec<&std::ffi::OsStr> = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(part) => Some(part),
                _ => None,
            })
            .collect();
        if parts.is_empty() {
            return Err(SandboxError::setup(
                "a claim cannot be mounted at `/`".into(),
            ));
        }
        let mut current = PathBuf::from("/");
        for (depth, part) in parts.iter().enumerate() {
            let next = current.join(part);
            match fs::symlink_metadata(self.inside(&next)) {
                Ok(meta) if meta.is_dir() => current = next,
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(SandboxError::setup(format!(
                        "mount path `{}` goes through the symbolic link `{}`; use the path it points to",
                        path.display(),
                        next.display()
                    )));
                }
                Ok(_) => {
                    return Err(SandboxError::setup(format!(
                        "mount path `{}`: `{}` is a file, not a folder",
                        path.display(),
                        next.display()
                    )));
                }
                Err(_) => {
                    self.create_below(&current, &parts[depth..])?;
                    break;
                }
            }
        }
        bind(claim, &self.inside(path))?;
        self.claims.push(path.to_path_buf());
        Ok(())
    }

    /// Creates `rest` under `parent` (which exists), shadowing `parent` first when it is the host's.
    fn create_below(
        &mut self,
        parent: &Path,
        rest: &[&std::ffi::OsStr],
    ) -> Result<(), SandboxError> {
        if !self.is_ours(parent) {
            let target = self.inside(parent);
            mount_tmpfs(&target)?;
            mirror_entries(parent, &target)?;
            self.writable.push(parent.to_path_buf());
        }
        let mut current = parent.to_path_buf();
        for part in rest {
            current.push(part);
            let target = self.inside(&current);
            fs::create_dir(&target).map_err(|e| {
                SandboxError::setup(format!(
                    "cannot create `{}` in the step's root: {e}",
                    current.display()
                ))
            })?;
            self.writable.push(current.clone());
        }
        Ok(())
    }
}
