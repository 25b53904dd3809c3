//! From an instance of an IR step and the values known when it starts
//! (params, upstream outputs, loop items, carried values, run information;
//! the [`Plan`](super::plan::Plan) looks them up) to a [`StepSpec`]: what exactly to execute, with which
//! environment, mounts and folders.
//!
//! A string command becomes `sh -c SCRIPT` where the script comes from
//! [`Template::shell_script`]: every interpolation is a `${KFP_…}` reference
//! and its value travels as an environment variable, so no value is ever
//! parsed as shell code. A list command is an argv with values substituted.
//! Every other attribute (env values, `GIT_SYNC_REV`, the image) is rendered
//! as text.
//!
//! The environment, later entries winning: kfpl's own environment,
//! `KFPL_RUN_ID` and `KFPL_RUN_DIR` (which also let a later kfpl find the
//! processes of a run whose kfpl was killed), `CUDA_VISIBLE_DEVICES`, the
//! step's `env`, the `KFP_…` values, `KFP_OUTPUTS`, and `KFP_UI_METADATA`
//! for a step with `visuals = true`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ir::{self, Command, MetricFormat, Part, Template};
use crate::params::count_value;

/// The value of one interpolation (a param, an output, a loop item, …) for
/// the instance being prepared; lets are looked through before it is asked.
pub(crate) type Lookup<'a> = dyn Fn(&Part) -> String + 'a;

/// Values shown by `--dry-run`, where nothing has run: params bound, every
/// other value as `<step.output>`, `<lr>`, `<workflow.name>`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Placeholders {
    pub(crate) params: BTreeMap<String, String>,
}

impl Placeholders {
    pub(crate) fn part(&self, part: &Part) -> String {
        match part {
            Part::Text(text) => text.clone(),
            Part::Param { name, .. } => self.params.get(name).cloned().unwrap_or_default(),
            Part::Let { value, .. } => render(value, &|part| self.part(part)),
            other => format!(
                "<{}>",
                other
                    .source()
                    .trim_start_matches("$<")
                    .trim_end_matches('>')
            ),
        }
    }
}

/// The template as text.
pub(crate) fn render(template: &Template, value: &Lookup<'_>) -> String {
    template.render(&mut |part| value(part))
}

/// The instance a spec is built for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    /// The instance's id (what its messages carry).
    pub(crate) id: usize,
    /// Index into the pipeline's steps.
    pub(crate) step: usize,
    /// The record's name (`train[1] lr=0.1`).
    pub(crate) name: &'a str,
    /// Its folder under the run's (`train[1]`).
    pub(crate) key: &'a str,
    /// `$<workflow.pod_name>`: `my-sweep-r3-train-1`, also its container's name.
    pub(crate) pod: &'a str,
}

/// Where a step's files go, under `<run_dir>/<step>/`.
#[derive(Debug, Clone)]
pub(crate) struct StepDirs {
    /// `<run_dir>/<step>`.
    pub(crate) step: PathBuf,
    /// `work/`: the working directory (`code/<repo>/` lands here).
    pub(crate) work: PathBuf,
    /// `outputs/`: `KFP_OUTPUTS`.
    pub(crate) outputs: PathBuf,
    /// `root/`: where the sandbox builds the step's view of `/`.
    pub(crate) root: PathBuf,
    /// `stdout.log`.
    pub(crate) stdout_log: PathBuf,
    /// `stderr.log`.
    pub(crate) stderr_log: PathBuf,
}

impl StepDirs {
    pub(crate) fn new(run_dir: &Path, step: &str) -> StepDirs {
        let dir = run_dir.join(step);
        StepDirs {
            work: dir.join("work"),
            outputs: dir.join("outputs"),
            root: dir.join("root"),
            stdout_log: dir.join("stdout.log"),
            stderr_log: dir.join("stderr.log"),
            step: dir,
        }
    }
}

/// `sync_source` with its revision rendered.
#[derive(Debug, Clone)]
pub(crate) struct SyncSpec {
    pub(crate) url: String,
    pub(crate) repo_name: String,
    pub(crate) revision: Option<String>,
}

/// Everything needed to run one step.
#[derive(Debug, Clone)]
pub(crate) struct StepSpec {
    /// The instance's id.
    pub(crate) index: usize,
    /// The record's name (`train[1] lr=0.1`).
    pub(crate) name: String,
    /// Its pod name (`r3-train-1`): what its container is named after.
    pub(crate) pod: String,
    /// The run's id (container engines name the step's container after it).
    pub(crate) run_id: String,
    /// The image, rendered (used only by a container engine).
    pub(crate) image: String,
    /// Whether the image was known before the run (and so checked, and
    /// pulled as `--pull` said, before anything ran).
    pub(crate) image_fixed: bool,
    /// `cpu` and `memory`, rendered (applied only by a container engine).
    pub(crate) cpu: Option<String>,
    pub(crate) memory: Option<String>,
    /// The program and its arguments.
    pub(crate) argv: Vec<String>,
    /// Variables set on top of kfpl's environment, in order.
    pub(crate) env: Vec<(String, String)>,
    /// Claim (or secret) directory → mount path.
    pub(crate) mounts: Vec<(PathBuf, String)>,
    /// The folders holding the `file` outputs the step reads, each bound
    /// read-only over itself (also in `mounts`, unless the host has no
    /// mount namespace to give: see `artifacts`).
    pub(crate) inputs: Vec<PathBuf>,
    /// `secret_env` (never on a command line) and `secret_volumes` (read-only
    /// mounts, also in `mounts`), and the masker for the step's output.
    pub(crate) secrets: super::secrets::StepSecrets,
    pub(crate) sync: Option<SyncSpec>,
    pub(crate) gpus: Vec<u32>,
    pub(crate) retries: u32,
    pub(crate) timeout: Option<Duration>,
    pub(crate) metrics: Vec<(String, MetricFormat)>,
    /// Each output's name and declared type (checked when the step ends).
    pub(crate) outputs: Vec<(String, crate::check::ir::ParamType)>,
    pub(crate) dirs: StepDirs,
    /// `sidecar`s, started before the command and stopped when it ends.
    pub(crate) sidecars: Vec<ir::Sidecar>,
    /// Whether a container engine runs an init process as the container's
    /// pid 1 (a sidecar's: it passes SIGTERM on, as Argo's executor does).
    pub(crate) init: bool,
    /// Under a container engine: the container whose network namespace
    /// this one joins (a step's first sidecar's, as a pod shares one).
    pub(crate) network: Option<String>,
    /// `visuals = true`: `KFP_UI_METADATA` is set, and the file read after.
    pub(crate) visuals: bool,
}

impl StepSpec {
    /// The mount paths made read-only: secrets, and the folders of the
    /// `file` outputs the step reads.
    pub(crate) fn read_only_mounts(&self) -> impl Iterator<Item = &str> {
        let inputs = self
            .mounts
            .iter()
            .filter(|(dir, _)| self.inputs.contains(dir))
            .map(|(_, path)| path.as_str());
        self.secrets
            .mounts
            .iter()
            .map(|(_, path)| path.as_str())
            .chain(inputs)
    }
}

/// The folder behind a claim: `<state>/volumes/<claim>`.
pub(crate) fn claim_dir(state_dir: &Path, claim: &str) -> PathBuf {
    state_dir.join("volumes").join(claim)
}

/// What every step of one run shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunPlace<'a> {
    pub(crate) state_dir: &'a Path,
    pub(crate) run_id: &'a str,
    pub(crate) run_dir: &'a Path,
    /// Every param's value (for `retries = $<n>`).
    pub(crate) params: &'a BTreeMap<String, String>,
    pub(crate) secrets: &'a super::secrets::Secrets,
    /// Whether the `file` outputs a step reads can be mounted read-only.
    pub(crate) read_only_inputs: bool,
}

/// Builds the spec of `target`, an instance of a step of `pipeline`.
pub(crate) fn step_spec(
    pipeline: &ir::Pipeline,
    target: Target<'_>,
    values: &Lookup<'_>,
    gpus: Vec<u32>,
    place: RunPlace<'_>,
) -> StepSpec {
    let RunPlace {
        state_dir,
        run_id,
        run_dir,
        params,
        secrets,
        read_only_inputs,
    } = place;
    let step = &pipeline.steps[target.step];
    let values = &|part: &Part| with_file_paths(pipeline, run_dir, values, part);
    let inputs = input_folders(pipeline, step, values);
    let secrets = secrets.for_step(step);
    let dirs = StepDirs::new(run_dir, target.key);
    let mut env = vec![
        ("KFPL_RUN_ID".to_string(), run_id.to_string()),
        (
            "KFPL_RUN_DIR".to_string(),
            run_dir.to_string_lossy().into_owned(),
        ),
        (
            "CUDA_VISIBLE_DEVICES".to_string(),
            super::gpus::visible_devices(&gpus),
        ),
    ];
    env.extend(
        step.env
            .iter()
            .map(|var| (var.name.clone(), render(&var.value, values))),
    );
    let argv = match &step.command {
        Command::Shell(template) => {
            let script = template.shell_script();
            for (name, part) in &script.variables {
                env.push((name.clone(), values(part)));
            }
            vec!["sh".to_string(), "-c".to_string(), script.script]
        }
        Command::Exec(args) => args.iter().map(|arg| render(arg, values)).collect(),
    };
    env.push((
        "KFP_OUTPUTS".to_string(),
        dirs.outputs.to_string_lossy().into_owned(),
    ));
    if step.visuals {
        env.push((
            crate::check::visuals::METADATA_ENV.to_string(),
            super::visuals::metadata_path(&dirs.step)
                .to_string_lossy()
                .into_owned(),
        ));
    }
    let sync = step.sync_source.as_ref().map(|source| SyncSpec {
        url: source.url.clone(),
        repo_name: source.repo_name.clone(),
        revision: step
            .git_revision()
            .map(|rev| render(rev, values))
            .filter(|rev| !rev.trim().is_empty()),
    });
    StepSpec {
        index: target.id,
        name: target.name.to_string(),
        pod: target.pod.to_string(),
        run_id: run_id.to_string(),
        image: render(&step.image, values),
        image_fixed: step.image.as_const().is_some(),
        cpu: step.cpu.as_deref().map(|cpu| render(cpu, values)),
        memory: step.memory.as_deref().map(|memory| render(memory, values)),
        argv,
        env,
        mounts: step
            .data
            .iter()
            .map(|m| {
                let dir = match m.volume {
                    true => super::volumes::volume_dir(run_dir, &m.claim),
                    false => claim_dir(state_dir, &m.claim),
                };
                (dir, m.path.clone())
            })
            .chain(secrets.mounts.iter().cloned())
            .chain(
                inputs
                    .iter()
                    .filter(|_| read_only_inputs)
                    .map(|dir| (dir.clone(), dir.to_string_lossy().into_owned())),
            )
            .collect(),
        inputs,
        secrets,
        sync,
        gpus,
        retries: count_value(&step.retries, params),
        timeout: step
            .timeout
            .as_ref()
            .map(|t| Duration::from_secs(t.seconds)),
        metrics: step
            .metrics
            .iter()
            .map(|m| (m.name.clone(), m.format))
            .collect(),
        outputs: step
            .outputs
            .iter()
            .map(|o| (o.name.clone(), o.ty))
            .collect(),
        dirs,
        sidecars: step.sidecars.to_vec(),
        init: false,
        network: None,
        visuals: step.visuals,
    }
}

/// The folders of the `file` outputs `step` reads (each once).
fn input_folders(pipeline: &ir::Pipeline, step: &ir::Step, values: &Lookup<'_>) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = pipeline
        .file_inputs(step)
        .into_iter()
        .filter_map(|(producer, output)| {
            let part = Part::Output {
                step: producer,
                output,
                span: crate::source::Span::default(),
            };
            let path = PathBuf::from(values(&part));
            super::artifacts::mount_folder(&path)
                .filter(|dir| dir.is_absolute())
                .map(Path::to_path_buf)
        })
        .collect();
    folders.sort();
    folders.dedup();
    folders
}

/// `part`'s value, where a `file` output's (its record) is the reader's
/// path; lets are rendered through this too (a shell command reads a let
/// whole, from its own variable), since their text may read a file.
fn with_file_paths(
    pipeline: &ir::Pipeline,
    run_dir: &Path,
    values: &Lookup<'_>,
    part: &Part,
) -> String {
    match part {
        Part::Let { value, .. } => {
            value.render(&mut |inner| with_file_paths(pipeline, run_dir, values, inner))
        }
        _ if pipeline.is_file_output(part) => {
            let record = values(part);
            super::artifacts::reader_path(&record, run_dir)
                .map_or(record, |path| path.to_string_lossy().into_owned())
        }
        _ => values(part),
    }
}
