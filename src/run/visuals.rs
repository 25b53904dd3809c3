//! A step's KFP UI metadata (`visuals = true`, LANGUAGE-2.md): the file the
//! step writes to `$KFP_UI_METADATA`, `{"outputs": [...]}` of markdown,
//! table, confusion_matrix, roc, web-app or tensorboard items, read as KFP
//! 1.8's UI reads it (`type`, `storage`, `source`, `format`, `header`,
//! `schema`, `labels`).
//!
//! Locally the file is `<run>/<step>/ui/mlpipeline-ui-metadata.json`. After
//! the step succeeds it is read once ([`check_step`]): what KFP's UI would
//! skip is a W0613 warning, a source kfpl cannot read here a W0614, and the
//! step never fails over it. `kfpl runs show` lists each item
//! ([`kept`], [`Visual::describe`]), and `kfpl runs visuals` draws them ([`render_run`]) into
//! `<run>/visuals/<step>/<n>-<type>.html|svg` with an `index.html`; the one
//! drawing of each type is [`render`]'s, which `kfpl ui` uses too.
//!
//! Sources: `"storage": "inline"` means `source` is the data. Otherwise a
//! `source` with a scheme other than `file://` is remote (`gs://`, `s3://`,
//! `minio://`, `http(s)://`): listed, never fetched (W0614). Any other
//! `source` is a local file: an absolute path as is, a relative one from
//! the step's working directory (`<run>/<step>/work`), where the step ran.

pub mod markdown;
pub mod render;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::diagnostics::Diagnostic;

/// The metadata file's name, in the step's `ui/` folder (KFP's own name).
pub const METADATA_FILE: &str = "mlpipeline-ui-metadata.json";

/// The most bytes of metadata or of one source kfpl reads (KFP's UI reads
/// artifacts of a few MiB; a larger one is a mistake, not a chart).
const MOST_BYTES: u64 = 16 * 1024 * 1024;

/// The folder of a step's metadata, under the step's folder.
pub fn metadata_dir(step_dir: &Path) -> PathBuf {
    step_dir.join("ui")
}

/// The metadata file of a step whose folder is `step_dir`.
pub fn metadata_path(step_dir: &Path) -> PathBuf {
    metadata_dir(step_dir).join(METADATA_FILE)
}

/// The type of one visual, as KFP names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `markdown`: text drawn as HTML.
    Markdown,
    /// `table`: CSV rows with a `header`.
    Table,
    /// `confusion_matrix`: CSV rows of target, predicted, count.
    ConfusionMatrix,
    /// `roc`: CSV rows of fpr, tpr, thresholds.
    Roc,
    /// `web-app`: an HTML page of the step's own.
    WebApp,
    /// `tensorboard`: a log folder for TensorBoard.
    Tensorboard,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Markdown,
        Kind::Table,
        Kind::ConfusionMatrix,
        Kind::Roc,
        Kind::WebApp,
        Kind::Tensorboard,
    ];

    /// KFP's name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Markdown => "markdown",
            Kind::Table => "table",
            Kind::ConfusionMatrix => "confusion_matrix",
            Kind::Roc => "roc",
            Kind::WebApp => "web-app",
            Kind::Tensorboard => "tensorboard",
        }
    }

    fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The rendered file's extension: the two charts are SVG pictures.
    pub fn extension(self) -> &'static str {
        match self {
            Kind::ConfusionMatrix | Kind::Roc => "svg",
            _ => "html",
        }
    }
}

/// Where a visual's data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `"storage": "inline"`: the data itself.
    Inline(String),
    /// A file on this machine, as written (`roc.csv`, `/data/roc.csv`).
    Local(String),
    /// A URI only the cluster reads (`gs://…`).
    Remote(String),
}

impl Source {
    fn classify(storage: Option<&str>, source: &str) -> Source {
        if storage == Some("inline") {
            return Source::Inline(source.to_string());
        }
        if let Some(path) = source.strip_prefix("file://") {
            return Source::Local(path.to_string());
        }
        if source.contains("://") {
            Source::Remote(source.to_string())
        } else {
            Source::Local(source.to_string())
        }
    }

    /// The data: inline text, or the local file's (relative to `work`);
    /// `Err` says why it cannot be had here.
    pub fn read(&self, work: &Path) -> Result<String, String> {
        match self {
            Source::Inline(text) => Ok(text.clone()),
            Source::Remote(uri) => Err(format!(
                "its source `{uri}` is remote; kfpl does not fetch it (the KFP UI reads it on the cluster)"
            )),
            Source::Local(path) => read_limited(&work.join(path))
                .map_err(|why| format!("its source `{path}` cannot be read: {why}")),
        }
    }
}

/// One item of `outputs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visual {
    pub kind: Kind,
    pub source: Source,
    /// `header`: a table's column names.
    pub header: Vec<String>,
    /// `schema`: the CSV's column names, in order.
    pub schema: Vec<String>,
    /// `labels`: a confusion matrix's classes, in order.
    pub labels: Vec<String>,
}

impl Visual {
    /// A short line for listings: `roc from roc.csv`, `markdown (inline)`.
    pub fn describe(&self) -> String {
        let kind = self.kind.as_str();
        match &self.source {
            Source::Inline(_) => format!("{kind} (inline)"),
            Source::Local(path) => format!("{kind} from {path}"),
            Source::Remote(uri) => format!("{kind} from {uri} (remote)"),
        }
    }
}

/// What a metadata file holds: the items kfpl can read, and what is wrong
/// with the others (each a W0613 message tail).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    pub visuals: Vec<Visual>,
    pub problems: Vec<String>,
}

/// Reads metadata text as KFP's UI does; `Err` when nothing of it is usable
/// (not JSON, not `{"outputs": [...]}`).
pub fn parse(text: &str) -> Result<Metadata, String> {
    let json: Value = serde_json::from_str(text).map_err(|e| format!("is not JSON ({e})"))?;
    let Some(outputs) = json.get("outputs").and_then(Value::as_array) else {
        return Err("is not a JSON object with an `outputs` list".into());
    };
    let mut metadata = Metadata::default();
    for (index, item) in outputs.iter().enumerate() {
        match visual(item) {
            Ok(visual) => metadata.visuals.push(visual),
            Err(why) => metadata.problems.push(format!("item {} {why}", index + 1)),
        }
    }
    Ok(metadata)
}

fn visual(item: &Value) -> Result<Visual, String> {
    let text = |key: &str| item.get(key).and_then(Value::as_str);
    let names = |key: &str| -> Vec<String> {
        item.get(key)
            .and_then(Value::as_array)
            .map(|list| list.iter().map(column_name).collect())
            .unwrap_or_default()
    };
    let Some(kind_text) = text("type") else {
        return Err("has no `type`".into());
    };
    let Some(kind) = Kind::parse(kind_text) else {
        let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        return Err(format!(
            "has the unknown type `{kind_text}` (KFP knows {})",
            known.join(", ")
        ));
    };
    let Some(source) = text("source") else {
        return Err(format!("({kind_text}) has no `source` string"));
    };
    Ok(Visual {
        kind,
        source: Source::classify(text("storage"), source),
        header: names("header"),
        schema: names("schema"),
        labels: names("labels"),
    })
}

/// A `header` or `labels` entry (a string), or a `schema` entry's `name`.
fn column_name(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Object(map) => map
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        other => other.to_string(),
    }
}

/// A file's text, refused past [`MOST_BYTES`] or when not a regular file.
fn read_limited(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MOST_BYTES {
        return Err(format!("larger than {} MiB", MOST_BYTES >> 20));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A step's metadata, with what is wrong with it as W0613/W0614 warnings;
/// `None` when the step wrote none (or it is unusable).
pub fn load_step(step: &str, step_dir: &Path) -> (Option<Metadata>, Vec<Diagnostic>) {
    let path = metadata_path(step_dir);
    if !path.exists() {
        return (
            None,
            vec![super::warnings::ui_metadata(
                step,
                "was never written",
                &path,
            )],
        );
    }
    let parsed = read_limited(&path).and_then(|text| parse(&text));
    match parsed {
        Err(why) => (None, vec![super::warnings::ui_metadata(step, &why, &path)]),
        Ok(metadata) => {
            let mut warnings: Vec<Diagnostic> = metadata
                .problems
                .iter()
                .map(|why| super::warnings::ui_metadata(step, why, &path))
                .collect();
            let work = step_dir.join("work");
            for (index, visual) in metadata.visuals.iter().enumerate() {
                if let Err(why) = render::render(visual, &work) {
                    warnings.push(super::warnings::visual_not_drawn(
                        step,
                        index + 1,
                        visual,
                        &why,
                    ));
                }
            }
            (Some(metadata), warnings)
        }
    }
}

/// The visuals a step's metadata keeps, for `runs show` and `kfpl ui`;
/// empty when the step has none (or none kfpl can read).
pub fn kept(step_dir: &Path) -> Vec<Visual> {
    read_limited(&metadata_path(step_dir))
        .and_then(|text| parse(&text))
        .map(|metadata| metadata.visuals)
        .unwrap_or_default()
}

/// One step to draw: its record's name and its folder.
#[derive(Debug, Clone)]
pub struct StepVisuals<'a> {
    pub name: &'a str,
    pub step_dir: &'a Path,
}

/// What [`render_run`] did: every file written (the index last), and the
/// warnings about what it could not draw.
#[derive(Debug, Default)]
pub struct Rendered {
    pub files: Vec<PathBuf>,
    pub warnings: Vec<Diagnostic>,
}

/// Draws every visual of `steps` into `out/<step folder>/<n>-<type>.<ext>`,
/// and `out/index.html` showing them all. Steps without metadata are
/// skipped; `Err` only when a file cannot be written.
pub fn render_run(run: &str, steps: &[StepVisuals<'_>], out: &Path) -> Result<Rendered, String> {
    let mut rendered = Rendered::default();
    let mut sections: Vec<render::Section> = Vec::new();
    for step in steps {
        if !metadata_path(step.step_dir).exists() {
            continue;
        }
        let (metadata, warnings) = load_step(step.name, step.step_dir);
        rendered.warnings.extend(warnings);
        let Some(metadata) = metadata else { continue };
        let folder = step_folder(step.step_dir);
        let work = step.step_dir.join("work");
        let mut section = render::Section {
            step: step.name.to_string(),
            items: Vec::new(),
        };
        for (index, visual) in metadata.visuals.iter().enumerate() {
            let drawn = render::render(visual, &work);
            let file = format!(
                "{folder}/{}-{}.{}",
                index + 1,
                visual.kind.as_str(),
                visual.kind.extension()
            );
            if let Ok(drawing) = &drawn {
                let path = out.join(&file);
                write(&path, &drawing.file)?;
                rendered.files.push(path);
            }
            section.items.push(render::Item {
                visual: visual.clone(),
                file,
                drawing: drawn,
            });
        }
        sections.push(section);
    }
    let index = out.join("index.html");
    write(&index, &render::index(run, &sections).into_string())?;
    rendered.files.push(index);
    Ok(rendered)
}

/// The folder name a step's files go under: its run folder's name (`train[1]`).
fn step_folder(step_dir: &Path) -> String {
    step_dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "step".into())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kfp_items_and_names_what_it_skips() {
        let metadata = parse(
            r##"{"outputs": [
                {"type": "markdown", "storage": "inline", "source": "# Hi"},
                {"type": "roc", "format": "csv", "source": "roc.csv",
                 "schema": [{"name": "fpr", "type": "NUMBER"}, {"name": "tpr", "type": "NUMBER"}]},
                {"type": "table", "source": "gs://b/t.csv", "header": ["a", "b"]},
                {"type": "chart", "source": "x"},
                {"type": "markdown"}
            ]}"##,
        )
        .unwrap_or_default();
        let described: Vec<String> = metadata.visuals.iter().map(Visual::describe).collect();
        assert_eq!(
            described,
            [
                "markdown (inline)",
                "roc from roc.csv",
                "table from gs://b/t.csv (remote)"
            ]
        );
        assert_eq!(metadata.visuals[1].schema, ["fpr", "tpr"]);
        assert_eq!(metadata.visuals[2].header, ["a", "b"]);
        assert_eq!(metadata.problems.len(), 2, "{:?}", metadata.problems);
        assert!(metadata.problems[0].starts_with("item 4 has the unknown type `chart`"));
        assert!(metadata.problems[1].starts_with("item 5 (markdown) has no `source`"));
    }

    #[test]
    fn refuses_what_is_not_kfp_metadata() {
        assert!(parse("accuracy: 0.9").is_err_and(|why| why.starts_with("is not JSON")));
        assert!(parse(r#"{"metrics": []}"#).is_err_and(|why| why.contains("`outputs` list")));
    }

    #[test]
    fn file_uris_are_local_and_other_schemes_remote() {
        assert_eq!(
            Source::classify(None, "file:///d/roc.csv"),
            Source::Local("/d/roc.csv".into())
        );
        assert_eq!(
            Source::classify(Some("gcs"), "roc.csv"),
            Source::Local("roc.csv".into())
        );
        assert_eq!(
            Source::classify(None, "minio://b/x"),
            Source::Remote("minio://b/x".into())
        );
        assert_eq!(
            Source::classify(Some("inline"), "a://b"),
            Source::Inline("a://b".into())
        );
    }
}
