//! `volume NAME { … }` under `kfpl run`, end to end through the binary: a
//! volume is a folder of the run that one step writes and the next reads,
//! removed when the run ends unless `keep = true` (then `runs show` says
//! where it is); a size read from a param is checked before anything runs.
//! Each test has its own `KFPL_HOME`.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use support::{stderr, stdout};

const HANDS_OVER: &str = r#"
pipeline hand_over {
  param size: string = "1Gi"
  volume scratch { size = "$<size>" }
  volume models { size = "1Gi" keep = true }

  step write {
    image = "alpine"
    data = ["scratch:/work", "models:/models"]
    command = "echo hello > /work/greeting && echo weights > /models/m.bin"
  }

  step read {
    image = "alpine"
    data = ["scratch:/data"]
    command = "cat /data/greeting"
    after = [write]
  }
}
"#;

type Env = support::Project;

#[test]
fn a_volume_hands_files_to_the_next_step_and_goes_unless_kept() {
    let env = Env::new("volumes-hand-over");
    let out = env.run_with(HANDS_OVER, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("| hello"), "{}", stdout(&out));
    let volumes = env.run_dir().join("kfpl-volumes");
    assert!(
        !volumes.join("scratch").exists(),
        "scratch outlived the run"
    );
    let kept = volumes.join("models").join("m.bin");
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "weights\n");
    let shown = env.kfpl(&["runs", "show", "r1"]);
    assert!(
        stdout(&shown).contains(&format!(
            "models kept at {}",
            volumes.join("models").display()
        )),
        "{}",
        stdout(&shown)
    );
}

#[test]
fn a_failed_run_removes_its_volumes_too() {
    let env = Env::new("volumes-failed");
    let source = HANDS_OVER.replace("cat /data/greeting", "cat /data/greeting; exit 3");
    let out = env.run_with(&source, &[]);
    assert!(!out.status.success());
    assert!(!env.run_dir().join("kfpl-volumes").join("scratch").exists());
}

#[test]
fn a_size_param_that_is_not_a_quantity_stops_the_run_before_it_starts() {
    let env = Env::new("volumes-size");
    let out = env.run_with(HANDS_OVER, &["-p", "size=huge"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("E0346"), "{}", stderr(&out));
    assert!(
        !env.home.join("runs").join("r1").exists(),
        "the run started"
    );
}

#[test]
fn a_step_named_volumes_keeps_apart_from_the_volumes() {
    // A volume named like a step's own folder (`work`) and a step named
    // `volumes`: neither lands in the other's folder.
    let env = Env::new("volumes-step-named-volumes");
    let source = r#"pipeline p {
  volume work { size = "1Gi" keep = true }
  step volumes {
    image = "alpine"
    data = ["work:/data"]
    command = "echo kept > /data/x; echo scratch > here"
  }
}
"#;
    let out = env.run(source);
    assert!(out.status.success(), "{}", stderr(&out));
    let volume = env.run_dir().join("kfpl-volumes").join("work");
    assert_eq!(std::fs::read_to_string(volume.join("x")).unwrap(), "kept\n");
    assert!(
        !volume.join("here").exists(),
        "the step's work folder is its own"
    );
    let shown = stdout(&env.kfpl(&["runs", "show", "r1"]));
    assert!(shown.contains("work kept at"), "{shown}");
    for folder in ["outputs", "stderr.log", "stdout.log"] {
        assert!(!shown.contains(&format!("{folder} kept at")), "{shown}");
    }
}
