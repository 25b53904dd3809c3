//! `output NAME: file` under `kfpl run`, end to end through the binary: a
//! file or folder a step writes at `$KFP_OUTPUTS/NAME` is kept with the run
//! (never copied, whatever its size), readers get its path behind a
//! read-only mount, `runs show` lists its place and size, and a missing one
//! fails its step. Each test has its own `KFPL_HOME`.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use support::{stderr, stdout};

type Env = support::Project;

/// Whether the readers got their inputs behind a read-only mount (not
/// where the machine gives kfpl no mount namespace: W0609).
fn mounted_read_only(out: &Output) -> bool {
    support::require(
        "a private mount namespace (unprivileged user namespaces, or root)",
        !stderr(out).contains("W0609"),
    )
}

// A failing test keeps its folder for a look, but never a gigabyte of it.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The blocks (512 bytes each) that the files under `dir` hold, each inode
/// counted once, and how many paths there are to them.
fn blocks_under(dir: &Path) -> (u64, usize) {
    let mut seen = BTreeSet::new();
    let mut blocks = 0;
    let paths = support::all_files_under(dir);
    for path in &paths {
        let meta = std::fs::symlink_metadata(path).unwrap();
        if seen.insert((meta.dev(), meta.ino())) {
            blocks += meta.blocks();
        }
    }
    (blocks, paths.len())
}

const GIGABYTE: u64 = 1 << 30;

/// One gigabyte, written block by block (not a sparse file, whose holes
/// would hide a copy), read by two steps.
const ONE_GIGABYTE: &str = r#"
pipeline big {
  step make {
    image = "alpine"
    output blob: file
    command = "dd if=/dev/zero of=$KFP_OUTPUTS/blob bs=1048576 count=1024 status=none"
  }
  step first {
    image = "alpine"
    command = "stat -c 'inode=%i links=%h size=%s' $<make.blob>"
  }
  step second {
    image = "alpine"
    env = { BLOB = $<make.blob> }
    command = "stat -c 'inode=%i links=%h size=%s' \"$BLOB\""
  }
}
"#;

#[test]
fn a_gigabyte_file_reaches_two_readers_without_a_second_copy() {
    let env = Env::new("files-gigabyte");
    let _cleanup = RemoveOnDrop(env.root.to_path_buf());
    let out = env.run(ONE_GIGABYTE);
    let (terminal_out, terminal_err) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{terminal_out}{terminal_err}");
    let kept = env.run_dir().join("make/outputs/blob");
    let meta = std::fs::metadata(&kept).unwrap();
    assert_eq!(meta.len(), GIGABYTE);
    // Real blocks: a sparse file would not show a copy.
    assert!(meta.blocks() * 512 >= GIGABYTE, "{} blocks", meta.blocks());
    // No hard link anywhere: the kept file is the only name of its inode.
    assert_eq!(meta.nlink(), 1);
    // Both readers saw that very inode, at its full size.
    let seen = format!("inode={} links=1 size={GIGABYTE}", meta.ino());
    for reader in ["first", "second"] {
        let log = std::fs::read_to_string(env.run_dir().join(reader).join("stdout.log")).unwrap();
        assert!(log.contains(&seen), "{reader}: {log} (expected {seen})");
    }
    // Everything the run folder holds, counted by distinct inode and by path,
    // is one gigabyte and a few small files: a copy would make it two.
    let (blocks, _) = blocks_under(&env.run_dir());
    assert!(
        blocks * 512 < GIGABYTE + (1 << 20),
        "the run holds {} bytes",
        blocks * 512
    );
    let all_paths: u64 = support::all_files_under(env.run_dir())
        .iter()
        .map(|p| std::fs::symlink_metadata(p).unwrap().blocks())
        .sum();
    assert_eq!(all_paths, blocks, "some inode has a second path in the run");
    // `runs show` lists it with its place and size.
    let shown = stdout(&env.kfpl(&["runs", "show", "r1", "--format", "json"]));
    assert!(
        shown.contains(&format!(
            r#""r1/make/outputs/blob (file, {GIGABYTE} bytes)""#
        )),
        "{shown}"
    );
}

const FOLDER: &str = r#"
pipeline tree {
  step make {
    image = "alpine"
    output data: file
    command = "mkdir -p $KFP_OUTPUTS/data/deep && echo one > $KFP_OUTPUTS/data/a && echo two > $KFP_OUTPUTS/data/deep/b"
  }
  step vandal {
    image = "alpine"
    command = "cat $<make.data>/a; rm $<make.data>/a || echo 'rm refused'; echo x >> $<make.data>/deep/b || echo 'write refused'; touch $<make.data>/new || echo 'create refused'"
  }
  step reader {
    image = "alpine"
    after = [vandal]
    command = "cat $<make.data>/a $<make.data>/deep/b; ls $<make.data>"
  }
}
"#;

#[test]
fn a_folder_output_is_read_only_for_its_readers() {
    let env = Env::new("files-folder");
    let out = env.run(FOLDER);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    if !mounted_read_only(&out) {
        return;
    }
    let vandal = std::fs::read_to_string(env.run_dir().join("vandal/stdout.log")).unwrap();
    for refused in ["rm refused", "write refused", "create refused"] {
        assert!(vandal.contains(refused), "{vandal}");
    }
    // The other reader, and the run's copy, saw nothing change.
    let reader = std::fs::read_to_string(env.run_dir().join("reader/stdout.log")).unwrap();
    assert_eq!(reader, "one\ntwo\na\ndeep\n");
    let kept = env.run_dir().join("make/outputs/data");
    assert_eq!(
        std::fs::read_to_string(kept.join("deep/b")).unwrap(),
        "two\n"
    );
    assert!(!kept.join("new").exists());
    let shown = stdout(&env.kfpl(&["runs", "show", "r1", "--format", "json"]));
    assert!(
        shown.contains(r#""r1/make/outputs/data (folder, 2 files, 8 bytes)""#),
        "{shown}"
    );
}

#[test]
fn a_missing_file_output_fails_its_step() {
    let env = Env::new("files-missing");
    let out = env.run(
        r#"
pipeline miss {
  step make {
    image = "alpine"
    output model: file
    command = "echo trained"
  }
  step use {
    image = "alpine"
    command = "cat $<make.model>"
  }
}
"#,
    );
    let terminal = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{terminal}");
    assert!(
        terminal.contains(
            "output `model` is declared `file` but the step did not write $KFP_OUTPUTS/model"
        ),
        "{terminal}"
    );
    assert!(terminal.contains("E0612"), "{terminal}");
    assert!(!env.run_dir().join("use/stdout.log").exists(), "{terminal}");
}

#[test]
fn each_iteration_reads_its_own_file() {
    let env = Env::new("files-loop");
    let out = env.run(
        r#"
pipeline per_item {
  for n in ["a", "b"] {
    step make {
      image = "alpine"
      output part: file
      command = "echo \"part $<n>\" > $KFP_OUTPUTS/part"
    }
    step read {
      image = "alpine"
      command = "cat $<make.part>"
    }
  }
}
"#,
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    for (i, n) in ["a", "b"].iter().enumerate() {
        let log = std::fs::read_to_string(env.run_dir().join(format!("read[{i}]/stdout.log")))
            .unwrap_or_default();
        assert_eq!(log, format!("part {n}\n"), "iteration {i}");
    }
}

#[test]
fn a_resumed_run_reads_the_file_its_reused_step_kept() {
    let env = Env::new("files-resume");
    let source = r#"
pipeline again {
  param ok: string = "no"

  step make {
    image = "alpine"
    output model: file
    command = "echo made once > $KFP_OUTPUTS/model"
  }

  step use {
    image = "alpine"
    command = "cat $<make.model> && test $<ok> = yes"
  }
}
"#;
    let first = env.run(source);
    assert!(!first.status.success(), "{}", stderr(&first));
    let file = env.root.join("p.kfp");
    let resumed = env.kfpl(&[
        "run",
        file.to_str().unwrap(),
        "--resume",
        "r1",
        "-p",
        "ok=yes",
    ]);
    assert!(
        resumed.status.success(),
        "{}{}",
        stdout(&resumed),
        stderr(&resumed)
    );
    let log = std::fs::read_to_string(env.home.join("runs/r2/use/stdout.log")).unwrap();
    assert_eq!(log, "made once\n");
    assert!(
        !env.home.join("runs/r2/make").exists(),
        "make was reused, not run"
    );
}
