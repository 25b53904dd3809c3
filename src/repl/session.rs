//! The REPL's backend: a session holding the pipeline being built, fed one
//! complete input at a time (no terminal here: `kfpl repl` prints the replies).
//!
//! The session keeps each accepted declaration as source text (an [`Entry`]).
//! To check a new input it assembles `pipeline NAME { …accepted… NEW }`,
//! with the new text verbatim at the end, and runs the same [`crate::check`]
//! as `kfpl check`. Diagnostics inside the new text are moved back onto the
//! input (named `<repl>`), so they show the lines the user typed; a label
//! that points at an earlier declaration becomes a note quoting it. Anything
//! else is shown against the whole program, named `<session>` (what `:show`
//! prints). Invariant: the accepted program always checks without errors,
//! so any error after adding an input is that input's fault, and the input
//! is then not added. W0201/W0202 (unused params and lets) are expected while
//! building and are only shown by `:check`.

use std::path::{Path, PathBuf};

use super::command::{self, Command};
use super::complete::Names;
use super::hooks::Hooks;
use super::snippet::{self, Entry, Kind};
use crate::check::ir::{self, Scalar};
use crate::check::params::{self, Missing};
use crate::diagnostics::render::{self, Format, Style};
use crate::diagnostics::{Code, Diagnostic, Label};
use crate::graph;
use crate::source::{SourceFile, Span};
use crate::syntax::{self, ast};

/// The name diagnostics give the text just entered.
pub(crate) const INPUT_NAME: &str = "<repl>";
/// The name diagnostics give the whole program so far.
pub(crate) const SESSION_NAME: &str = "<session>";
/// The pipeline's identifier until the user names it.
const DEFAULT_NAME: &str = "untitled";

/// How a session is set up.
#[derive(Debug, Clone)]
pub struct Options {
    /// Relative paths in `:load` and `:save` start here.
    pub base_dir: PathBuf,
    /// How diagnostics are rendered (colour, width).
    pub style: Style,
    /// Where `:yaml` and `:run` go.
    pub hooks: Hooks,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            base_dir: PathBuf::from("."),
            style: Style::default(),
            hooks: Hooks::default(),
        }
    }
}

/// What the session answers to one input. The session shows nothing
/// itself: the frontend prints `text`; `diagnostics` are there for callers
/// that want them as data (codes, severities) rather than rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    /// Text to show (ends with a newline unless empty), rendered
    /// diagnostics included.
    pub text: String,
    /// The diagnostics `text` shows, in order. Their spans point into the
    /// text just entered (`<repl>`), the program so far (`<session>`) or the
    /// file being loaded, as the rendered text names.
    pub diagnostics: Vec<Diagnostic>,
    /// The user asked to leave.
    pub quit: bool,
}

impl Reply {
    fn text(text: impl Into<String>) -> Reply {
        Draft {
            text: text.into(),
            diagnostics: Vec::new(),
        }
        .reply()
    }
}

/// A reply being built: its text so far and the diagnostics that text shows.
#[derive(Debug, Default)]
struct Draft {
    text: String,
    diagnostics: Vec<Diagnostic>,
}

impl Draft {
    fn reply(self) -> Reply {
        let mut text = self.text;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        Reply {
            text,
            diagnostics: self.diagnostics,
            quit: false,
        }
    }
}

/// The program so far.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Program {
    /// The identifier after `pipeline`.
    name: String,
    /// Comments above `pipeline` (from a loaded or pasted file).
    header: String,
    /// Accepted declarations, in the order they were first entered.
    entries: Vec<Entry>,
}

impl Program {
    fn empty() -> Program {
        Program {
            name: DEFAULT_NAME.into(),
            header: String::new(),
            entries: Vec::new(),
        }
    }

    /// The program as source text, with `extra` verbatim before the closing
    /// brace; also the offset where `extra` starts. Declarations are grouped:
    /// attributes, params, lets, steps.
    fn text(&self, extra: Option<&str>) -> (String, usize) {
        let mut out = String::new();
        if !self.header.is_empty() {
            out.push_str(&self.header);
            out.push('\n');
        }
        out.push_str(&format!("pipeline {} {{\n", self.name));
        let mut previous: Option<&Entry> = None;
        for kind in [
            Kind::Attribute,
            Kind::Param,
            Kind::Let,
            Kind::Volume,
            Kind::Step,
            Kind::Block,
        ] {
            for entry in self.entries.iter().filter(|e| e.kind == kind) {
                if let Some(previous) = previous {
                    let multi_line = |e: &Entry| e.text.contains('\n');
                    if previous.kind != kind
                        || matches!(kind, Kind::Step | Kind::Block | Kind::Volume)
                        || multi_line(previous)
                        || multi_line(entry)
                    {
                        out.push('\n');
                    }
                }
                out.push_str(&snippet::indent(&entry.text, 2));
                out.push('\n');
                previous = Some(entry);
            }
        }
        if previous.is_some() && extra.is_some() {
            out.push('\n');
        }
        let offset = out.len();
        if let Some(extra) = extra {
            out.push_str(extra);
            out.push('\n');
        }
        out.push_str("}\n");
        (out, offset)
    }

    fn count(&self, kind: Kind) -> usize {
        self.entries.iter().filter(|e| e.kind == kind).count()
    }

    /// `pipeline `mnist`: 4 params, 2 lets, 3 steps`.
    fn summary(&self) -> String {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        format!(
            "pipeline `{}`: {}, {}, {}",
            self.name,
            plural(self.count(Kind::Param), "param"),
            plural(self.count(Kind::Let), "let"),
            plural(self.count(Kind::Step), "step")
        )
    }
}

/// A REPL session: the program so far, its undo history and settings.
#[derive(Debug)]
pub struct Session {
    program: Program,
    /// Earlier programs, each with what the change after it did.
    undo: Vec<(Program, String)>,
    /// The file last loaded or saved, as the user wrote it (`:save` without a name).
    last_path: Option<String>,
    options: Options,
}

impl Default for Session {
    fn default() -> Session {
        Session::new(Options::default())
    }
}

impl Session {
    /// An empty session.
    pub fn new(options: Options) -> Session {
        Session {
            program: Program::empty(),
            undo: Vec::new(),
            last_path: None,
            options,
        }
    }

    /// Handles one complete input: a `:` command, or declarations.
    pub fn eval(&mut self, input: &str) -> Reply {
        if input.trim().is_empty() {
            return Reply::default();
        }
        if command::is_command(input) {
            return match command::parse(input) {
                Ok(command) => self.command(command),
                Err((message, help)) => Reply::text(format!("error: {message}\n  help: {help}")),
            };
        }
        self.declare(input)
    }

    /// The program so far as a source file named `<session>` (what `:show` prints).
    pub fn source(&self) -> SourceFile {
        SourceFile::new(SESSION_NAME, self.program.text(None).0)
    }

    /// Declared names, for completion.
    pub fn names(&self) -> Names {
        let of = |kind: Kind| -> Vec<String> {
            self.program
                .entries
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.name.clone())
                .collect()
        };
        let steps = match crate::check(&self.source()).pipeline {
            Some(pipeline) => pipeline
                .steps
                .iter()
                .map(|s| {
                    (
                        s.name.clone(),
                        s.outputs.iter().map(|o| o.name.clone()).collect(),
                    )
                })
                .collect(),
            None => of(Kind::Step)
                .into_iter()
                .map(|s| (s, vec!["output".to_string()]))
                .collect(),
        };
        Names {
            params: of(Kind::Param),
            lets: of(Kind::Let),
            steps,
        }
    }

    /// `:load FILE`: replaces the session with the file's pipeline when it checks clean.
    pub fn load(&mut self, path: &str) -> Reply {
        let file = match crate::read_source(&self.resolve(path), path) {
            Ok(file) => file,
            Err(error) => return self.shown(&[error.diagnostic], &error.file),
        };
        let checked = crate::check(&file);
        let mut out = Draft::default();
        self.show_all(&mut out, &checked.diagnostics, &file);
        let parsed = syntax::parse(&file);
        let pipeline = parsed.program.as_ref().and_then(|p| p.pipelines.first());
        let (Some(_), Some(pipeline)) = (checked.pipeline, pipeline) else {
            out.text.push_str(&format!(
                "not loaded: fix the errors in `{path}`, or enter its declarations one by one\n"
            ));
            return out.reply();
        };
        let body = body_of(pipeline);
        let program = Program {
            name: pipeline.name.name.clone(),
            header: header_of(file.text(), pipeline),
            entries: snippet::entries(file.text(), pipeline, body),
        };
        out.text
            .push_str(&format!("loaded `{path}`: {}\n", program.summary()));
        self.commit(program, format!("loaded `{path}`"));
        self.last_path = Some(path.to_string());
        out.reply()
    }

    fn command(&mut self, command: Command) -> Reply {
        match command {
            Command::Help => Reply::text(command::help_text()),
            Command::Load(path) => self.load(&path),
            Command::Show => Reply::text(self.program.text(None).0),
            Command::Check => self.check_all(),
            Command::Yaml => self.yaml(),
            Command::Graph(format) => self.graph(format),
            Command::Params => self.params(),
            Command::Run(args) => self.run(&args),
            Command::Undo => match self.undo.pop() {
                Some((program, change)) => {
                    self.program = program;
                    Reply::text(format!("undid: {change}"))
                }
                None => Reply::text("nothing to undo"),
            },
            Command::Reset => {
                if self.program == Program::empty() {
                    return Reply::text("the session is already empty");
                }
                self.commit(Program::empty(), "reset".into());
                Reply::text("started again from an empty pipeline (`:undo` brings it back)")
            }
            Command::Save(path) => self.save(path),
            Command::Quit => Reply {
                quit: true,
                ..Reply::default()
            },
        }
    }

    /// Checks declarations and adds them when they bring no error.
    fn declare(&mut self, input: &str) -> Reply {
        let pasted = starts_with_pipeline(input);
        let (parse_text, offset) = if pasted {
            (input.to_string(), 0)
        } else {
            let prefix = format!("pipeline {} {{\n", self.program.name);
            (format!("{prefix}{input}\n}}\n"), prefix.len())
        };
        // A trailing line break gives a label at the very end a place to show.
        let input_file = SourceFile::new(INPUT_NAME, format!("{input}\n"));
        // Brackets and strings first, on the input alone: inside the wrapper
        // a stray `}` would close the pipeline and be reported elsewhere.
        let scanned = syntax::scan::scan(input);
        if !scanned.diagnostics.is_empty() {
            let mut out = Draft::default();
            self.show_all(&mut out, &scanned.diagnostics, &input_file);
            return rejected(out);
        }
        let parsed = syntax::parse(&SourceFile::new(INPUT_NAME, parse_text.as_str()));
        let syntax_failed = parsed.diagnostics.iter().any(Diagnostic::is_error);
        let pipeline = parsed.program.as_ref().and_then(|p| p.pipelines.first());
        let Some(pipeline) = pipeline.filter(|_| !syntax_failed) else {
            let inside = Span::new(offset, offset + input.len());
            let mut out = Draft::default();
            for diagnostic in &parsed.diagnostics {
                let local = relocate(diagnostic, inside, 0, None);
                self.show(&mut out, local, &input_file);
            }
            return rejected(out);
        };
        let body = if pasted {
            body_of(pipeline)
        } else {
            Span::new(offset, offset + input.len())
        };
        let new = snippet::entries(&parse_text, pipeline, body);
        if new.is_empty() && !pasted {
            return Reply::default();
        }
        let name = pipeline.name.name.clone();

        // The program without what the input redefines, the input at the end.
        let mut base = self.program.clone();
        base.name = name.clone();
        base.entries.retain(|e| !new.iter().any(|n| n.key == e.key));
        let raw = parse_text.get(body.range()).unwrap_or("");
        let (check_text, check_offset) = base.text(Some(raw));
        let check_file = SourceFile::new(SESSION_NAME, check_text);
        let checked = crate::check(&check_file);
        let diagnostics: Vec<&Diagnostic> = checked
            .diagnostics
            .iter()
            .filter(|d| !matches!(d.code, Code::W0201 | Code::W0202))
            .collect();
        let failed = diagnostics.iter().any(|d| d.is_error());
        let inside = Span::new(check_offset, check_offset + raw.len());
        let moved_to = body.start as usize - offset;
        let mut out = Draft::default();
        for diagnostic in diagnostics {
            if failed && !diagnostic.is_error() {
                continue;
            }
            if in_span(diagnostic.span(), inside) || diagnostic.span().is_detached() {
                let local = relocate(diagnostic, inside, moved_to, Some(&check_file));
                self.show(&mut out, repl_note(local), &input_file);
            } else {
                self.show(&mut out, diagnostic.clone(), &check_file);
            }
        }
        if failed {
            return rejected(out);
        }

        let mut next = self.program.clone();
        let mut changes = Vec::new();
        if pasted {
            if next.name != name {
                changes.push(format!("named the pipeline `{name}`"));
            }
            next.name = name;
            let header = header_of(&parse_text, pipeline);
            if !header.is_empty() {
                next.header = header;
            }
        }
        for entry in new {
            let what = match entry.kind {
                Kind::Attribute => format!("the pipeline's `{}`", entry.name),
                kind => format!("{} `{}`", kind.word(), entry.name),
            };
            match next.entries.iter_mut().find(|e| e.key == entry.key) {
                Some(old) if entry.kind == Kind::Attribute => {
                    changes.push(format!("set {what}"));
                    *old = entry;
                }
                Some(old) => {
                    let was = if old.kind == entry.kind {
                        String::new()
                    } else {
                        format!(" (it was a {})", old.kind.word())
                    };
                    changes.push(format!("replaced {what}{was}"));
                    *old = entry;
                }
                None => {
                    changes.push(if entry.kind == Kind::Attribute {
                        format!("set {what}")
                    } else {
                        format!("added {what}")
                    });
                    next.entries.push(entry);
                }
            }
        }
        if changes.is_empty() {
            return out.reply();
        }
        for change in &changes {
            out.text.push_str(change);
            if change.starts_with("replaced") {
                out.text.push_str("; `:undo` brings the old one back");
            }
            out.text.push('\n');
        }
        self.commit(next, changes.join(", "));
        out.reply()
    }

    fn commit(&mut self, program: Program, change: String) {
        let previous = std::mem::replace(&mut self.program, program);
        self.undo.push((previous, change));
    }

    /// `:check`: every diagnostic of the program so far.
    fn check_all(&self) -> Reply {
        let file = self.source();
        let checked = crate::check(&file);
        if checked.diagnostics.is_empty() {
            return Reply::text(format!("{}; no errors or warnings", self.program.summary()));
        }
        self.shown(&checked.diagnostics, &file)
    }

    /// The IR of the program so far (it always checks clean; an error here is a bug).
    fn pipeline(&self) -> Result<(SourceFile, ir::Pipeline), Reply> {
        let file = self.source();
        let checked = crate::check(&file);
        match checked.pipeline {
            Some(pipeline) => Ok((file, pipeline)),
            None => Err(self.shown(&checked.diagnostics, &file)),
        }
    }

    fn graph(&self, format: graph::Format) -> Reply {
        match self.pipeline() {
            Ok((_, pipeline)) => Reply::text(graph::render(&pipeline, format)),
            Err(reply) => reply,
        }
    }

    fn yaml(&self) -> Reply {
        let (file, pipeline) = match self.pipeline() {
            Ok(found) => found,
            Err(reply) => return reply,
        };
        if pipeline.steps.is_empty() {
            return Reply::text("the pipeline has no steps yet: add a `step` first");
        }
        match (self.options.hooks.compile_yaml)(&file) {
            None => Reply::text("compile is not available in this build"),
            Some(Ok(yaml)) => Reply::text(yaml),
            Some(Err(diagnostics)) => self.shown(&diagnostics, &file),
        }
    }

    fn run(&self, args: &[String]) -> Reply {
        let (file, pipeline) = match self.pipeline() {
            Ok(found) => found,
            Err(reply) => return reply,
        };
        if pipeline.steps.is_empty() {
            return Reply::text("the pipeline has no steps yet: add a `step` first");
        }
        let mut overrides = Vec::new();
        let mut errors = Vec::new();
        for arg in args {
            match params::parse_override(arg) {
                Ok(pair) => overrides.push(pair),
                Err(diagnostic) => errors.push(diagnostic),
            }
        }
        if errors.is_empty()
            && let Err(found) = params::bind(&pipeline, &overrides, Missing::Error)
        {
            errors = found;
        }
        if !errors.is_empty() {
            return self.shown(&errors, &file);
        }
        match (self.options.hooks.run)(&file, &overrides) {
            None => Reply::text("run is not available in this build"),
            Some(Ok(summary)) => Reply::text(summary),
            Some(Err(diagnostics)) => self.shown(&diagnostics, &file),
        }
    }

    /// `:params`: a table of name, type and default.
    fn params(&self) -> Reply {
        let pipeline = match self.pipeline() {
            Ok((_, pipeline)) => pipeline,
            Err(reply) => return reply,
        };
        if pipeline.params.is_empty() {
            return Reply::text("no params yet: declare one with `param NAME: number = 0.01`");
        }
        let rows: Vec<[String; 3]> = pipeline
            .params
            .iter()
            .map(|p| {
                let default = match &p.default {
                    None => "(none: give one with `:run -p`)".to_string(),
                    Some(Scalar::String(s)) => format!("\"{}\"", crate::syntax::escape_string(s)),
                    Some(other) => other.as_text().to_string(),
                };
                [
                    p.name.clone(),
                    crate::check::type_word(p.ty).into(),
                    default,
                ]
            })
            .collect();
        let header = ["param".to_string(), "type".into(), "default".into()];
        let width = |k: usize| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[k].chars().count())
                .max()
                .unwrap_or(0)
        };
        let (w0, w1) = (width(0), width(1));
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            let line = format!("{:w0$}  {:w1$}  {}", row[0], row[1], row[2]);
            out.push_str(line.trim_end());
            out.push('\n');
        }
        Reply::text(out)
    }

    fn save(&mut self, path: Option<String>) -> Reply {
        let Some(path) = path.or_else(|| self.last_path.clone()) else {
            return Reply::text(
                "error: `:save` needs a file the first time\n  help: write `:save pipeline.kfp`",
            );
        };
        let (text, _) = self.program.text(None);
        let target = self.resolve(&path);
        if let Err(error) = std::fs::write(&target, &text) {
            return Reply::text(format!(
                "error: cannot write `{path}`: {error}\n  help: check that the folder exists and is writable"
            ));
        }
        self.last_path = Some(path.clone());
        let warnings = crate::check(&self.source())
            .diagnostics
            .iter()
            .filter(|d| !d.is_error())
            .count();
        let note = match warnings {
            0 => String::new(),
            1 => " (1 warning: `:check` shows it)".into(),
            n => format!(" ({n} warnings: `:check` shows them)"),
        };
        Reply::text(format!("saved `{path}`: {}{note}", self.program.summary()))
    }

    fn resolve(&self, path: &str) -> PathBuf {
        let path = Path::new(path);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.options.base_dir.join(path)
        }
    }

    /// Adds a diagnostic about `file` to the reply being built, rendered.
    fn show(&self, out: &mut Draft, diagnostic: Diagnostic, file: &SourceFile) {
        let text = render::render(&diagnostic, file, Format::Human, self.options.style);
        out.text.push_str(&text);
        out.diagnostics.push(diagnostic);
    }

    fn show_all(&self, out: &mut Draft, diagnostics: &[Diagnostic], file: &SourceFile) {
        let text = render::render_all(diagnostics, file, Format::Human, self.options.style);
        out.text.push_str(&text);
        out.diagnostics.extend_from_slice(diagnostics);
    }

    /// A reply that is just these diagnostics about `file`.
    fn shown(&self, diagnostics: &[Diagnostic], file: &SourceFile) -> Reply {
        let mut out = Draft::default();
        self.show_all(&mut out, diagnostics, file);
        out.reply()
    }
}

/// The reply to an input that was not added.
fn rejected(mut out: Draft) -> Reply {
    out.text.push_str("not added (the session is unchanged)\n");
    out.reply()
}

/// Whether the input is a whole `pipeline NAME { … }` (comments may come first).
fn starts_with_pipeline(input: &str) -> bool {
    syntax::lex::lex(input)
        .find(|t| !t.kind.is_trivia())
        .is_some_and(|t| t.kind == syntax::lex::Kind::Word && t.text(input) == "pipeline")
}

/// The range between a pipeline's braces.
fn body_of(pipeline: &ast::Pipeline) -> Span {
    Span::new(
        pipeline.braces.open.end as usize,
        pipeline.braces.close.start as usize,
    )
}

/// Comments above the `pipeline` keyword.
fn header_of(text: &str, pipeline: &ast::Pipeline) -> String {
    text.get(..pipeline.span.start as usize)
        .unwrap_or("")
        .trim()
        .to_string()
}

fn in_span(span: Span, outer: Span) -> bool {
    !span.is_detached() && outer.start <= span.start && span.end <= outer.end
}

/// Moves a diagnostic's labels that lie in `inside` to start at `to`
/// (offsets relative to `inside`), and turns every other label into a note
/// quoting its line of `context` (dropped when there is no context).
fn relocate(
    diagnostic: &Diagnostic,
    inside: Span,
    to: usize,
    context: Option<&SourceFile>,
) -> Diagnostic {
    let mut out = diagnostic.clone();
    out.labels.clear();
    for label in &diagnostic.labels {
        if in_span(label.span, inside) {
            let shift = |n: u32| (n - inside.start) as usize + to;
            out.labels.push(Label {
                span: Span::new(shift(label.span.start), shift(label.span.end)),
                ..label.clone()
            });
        } else if let Some(file) = context {
            let (line, _) = file.line_col(label.span.start);
            let text = file.text().lines().nth(line - 1).unwrap_or("").trim();
            out.notes.push(format!("{}: `{text}`", label.message));
        } else if label.primary {
            // A syntax error past the end of the input, at the wrapper's closing brace.
            let end = (inside.len() + to) as u32;
            out.labels.push(Label {
                span: Span { start: end, end },
                ..label.clone()
            });
            out.message = out
                .message
                .replace("found `}`", "found the end of the input");
        }
    }
    out
}

/// In the REPL, names must be declared before the declarations that use them.
fn repl_note(diagnostic: Diagnostic) -> Diagnostic {
    match diagnostic.code {
        Code::E0201 | Code::E0203 if diagnostic.help.is_none() => diagnostic
            .note("each declaration is checked as it is entered: declare what it refers to first"),
        _ => diagnostic,
    }
}

#[cfg(test)]
mod tests {
    use super::Session;

    fn codes(reply: &super::Reply) -> Vec<&str> {
        reply.diagnostics.iter().map(|d| d.code.as_str()).collect()
    }

    #[test]
    fn a_reply_carries_the_diagnostics_its_text_shows() {
        let mut session = Session::default();
        let typo = session.eval(r#"step bye { image = "alpine" comand = "echo bye" }"#);
        assert_eq!(codes(&typo), ["E0205"]);
        assert!(typo.text.contains("kfpl::E0205"), "{}", typo.text);
        assert!(
            typo.text
                .ends_with("not added (the session is unchanged)\n")
        );

        let added = session.eval(r#"param who: string = "world""#);
        assert_eq!(codes(&added), Vec::<&str>::new());
        assert_eq!(added.text, "added param `who`\n");
        assert!(!added.quit);

        let missing = session.eval(":load no/such/file.kfp");
        assert_eq!(codes(&missing), ["E0001"]);
        assert!(session.eval(":quit").quit);
    }

    /// A volume is a declaration of the session, and a step mounts it.
    #[test]
    fn a_volume_is_added_and_mounted() {
        let mut session = Session::default();
        let added = session.eval("volume scratch {\n  size = \"1Gi\"\n}");
        assert_eq!(added.text, "added volume `scratch`\n");
        let step = r#"step s { image = "x" data = ["scratch:/w"] command = "ls /w" sidecar db { image = "r" command = "r" } }"#;
        let added = session.eval(step);
        assert_eq!(codes(&added), Vec::<&str>::new());
        assert_eq!(added.text, "added step `s`\n");
        let again = session.eval("volume scratch { size = \"2Gi\" }");
        assert!(
            again.text.starts_with("replaced volume `scratch`"),
            "{}",
            again.text
        );
    }

    /// A control block is one declaration of the session: added whole,
    /// replaced when its head is typed again, and checked with the rest.
    #[test]
    fn a_block_is_added_replaced_and_checked() {
        let mut session = Session::default();
        session.eval(r#"param deploy: bool = true"#);
        session.eval(r#"step a { image = "x" command = "echo a" }"#);
        let block = "if $<deploy> {\n  step b { image = \"x\" command = \"echo $<a.output>\" }\n}";
        assert_eq!(session.eval(block).text, "added block `if $<deploy>`\n");
        let again = block.replace("echo", "printf");
        assert!(
            session
                .eval(&again)
                .text
                .starts_with("replaced block `if $<deploy>`")
        );
        assert!(session.eval(":show").text.contains("printf $<a.output>"));
        let guarded = session.eval(r#"step c { image = "x" command = "echo $<b.output>" }"#);
        assert_eq!(codes(&guarded), ["E0214"]);
    }
}
