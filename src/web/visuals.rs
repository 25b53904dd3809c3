//! The visuals of a step on its run page: the drawings of
//! [`crate::run::visuals::render`], the ones `kfpl runs visuals` writes.
//! A page may be seen by others than the user who ran the step, so, as for
//! logs and outputs ([`super::files`]), only files inside the run's folder
//! are read: the metadata, and a source that is a local file (one outside
//! is named, and `kfpl runs visuals` draws it).

use std::path::Path;

use maud::{Markup, html};

use super::files::{relative_to_run, resolve_inside};
use crate::run::store::{RunRecord, StepRecord};
use crate::run::visuals::{self, Source, Visual, render};

/// The "Visuals" part of a step's details; empty when it kept none.
pub(super) fn step_visuals(run: &RunRecord, step: &StepRecord) -> Markup {
    let Some(relative) = relative_to_run(run, step) else {
        return html! {};
    };
    let metadata = format!("{relative}/ui/{}", visuals::METADATA_FILE);
    if resolve_inside(Path::new(&run.run_dir), &metadata).is_err() {
        return html! {};
    }
    let step_dir = Path::new(&run.run_dir).join(&relative);
    let kept = visuals::kept(&step_dir);
    html! {
        @if !kept.is_empty() {
            h3 { "Visuals" }
            @for visual in &kept {
                div.visual {
                    h4 { (visual.describe()) }
                    @match drawn(run, &relative, &step_dir, visual) {
                        Ok(fragment) => (fragment),
                        Err(why) => p.muted { "Not drawn: " (why) },
                    }
                }
            }
        }
    }
}

/// The drawing, when its data is inline or a file inside the run's folder.
fn drawn(
    run: &RunRecord,
    relative: &str,
    step_dir: &Path,
    visual: &Visual,
) -> Result<Markup, String> {
    if let Source::Local(path) = &visual.source {
        let inside = match Path::new(path).strip_prefix(&run.run_dir) {
            Ok(in_run) => in_run.to_string_lossy().into_owned(),
            Err(_) if Path::new(path).is_absolute() => String::new(),
            Err(_) => format!("{relative}/work/{path}"),
        };
        if resolve_inside(Path::new(&run.run_dir), &inside).is_err() {
            return Err(format!(
                "`{path}` is not a file inside the run's folder (missing, or elsewhere); `kfpl runs visuals {}` reads any local file",
                run.id
            ));
        }
    }
    let drawing = render::render(visual, &step_dir.join("work"))?;
    Ok(drawing.fragment)
}
