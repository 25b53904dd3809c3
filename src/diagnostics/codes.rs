//! The registry of diagnostic codes: the single source of truth.
//!
//! A code is forever: it is never renumbered or reused. Each has a one-line
//! summary and an explanation page (`explain/EXXXX.md`, printed by
//! `kfpl explain`). `tests/registry.rs` checks that every code has a page and
//! at least one `tests/ui` fixture.

macro_rules! codes {
    ($($code:ident => $summary:literal,)*) => {
        /// A stable diagnostic code. `E…` codes are errors, `W…` codes warnings.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(
                #[doc = $summary]
                $code,
            )*
        }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            /// The code as written, e.g. `E0201`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code),)*
                }
            }

            /// One line saying what the code is about.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$code => $summary,)*
                }
            }

            /// The explanation page (markdown).
            pub fn explanation(self) -> &'static str {
                match self {
                    $(Code::$code => include_str!(concat!("explain/", stringify!($code), ".md")),)*
                }
            }
        }
    };
}

codes! {
    // E00xx: input and command line
    E0001 => "cannot read a source file",
    E0002 => "source file is not valid UTF-8",
    E0003 => "source file is too large",
    E0004 => "malformed `-p NAME=VALUE` argument",
    // E01xx: syntax
    E0101 => "syntax error",
    E0102 => "unterminated string",
    E0103 => "malformed interpolation",
    E0104 => "brackets nested too deeply",
    E0105 => "unknown escape sequence",
    E0106 => "reserved keyword used as a name",
    E0107 => "more than one `pipeline` block",
    E0108 => "no `pipeline` block",
    E0109 => "invalid identifier",
    E0110 => "unexpected character",
    E0111 => "unbalanced bracket",
    // E02xx: names
    E0201 => "unknown step",
    E0202 => "unknown output of a step",
    E0203 => "unknown param or let",
    E0204 => "name declared twice",
    E0205 => "unknown attribute",
    E0206 => "attribute given twice",
    E0207 => "missing required attribute",
    E0208 => "metric declared twice in one step",
    E0209 => "unknown param on the command line",
    E0210 => "param has no value",
    E0211 => "name not valid for Kubernetes",
    E0212 => "`let` definitions refer to each other in a cycle",
    E0213 => "`workflow` is a reserved step name",
    E0214 => "output of a step that may be skipped",
    E0215 => "run information used where it has no value",
    E0216 => "`finally` steps and other steps read each other",
    E0217 => "declaration not allowed in this block",
    E0218 => "invalid `carry`",
    // E03xx: types and values
    E0301 => "value has the wrong type",
    E0302 => "param default does not match the param's type",
    E0303 => "command-line value does not match the param's type",
    E0304 => "malformed `data` entry",
    E0305 => "invalid claim name",
    E0306 => "invalid mount path",
    E0307 => "mount path used twice in one step",
    E0308 => "not a whole number >= 0",
    E0309 => "invalid duration",
    E0310 => "invalid Kubernetes quantity",
    E0311 => "invalid environment variable name",
    E0312 => "(removed in v2) list or map interpolated into a string",
    E0313 => "invalid `sync_source`",
    E0314 => "value must be fixed at compile time",
    E0315 => "invalid metric name",
    E0316 => "empty command",
    E0317 => "value too large to pass on Argo",
    E0318 => "a param declared as a `file`",
    E0319 => "list or map with an interpolation used as text",
    E0320 => "loop item has no such field",
    E0321 => "condition operands of the wrong type",
    E0322 => "not a condition operand, loop list or repeat count",
    E0330 => "invalid Kubernetes label, annotation key or object name",
    E0331 => "label or annotation key reserved for kfpl",
    E0332 => "invalid toleration",
    E0333 => "resource request above its limit",
    E0334 => "`pod_spec_patch` is not YAML or JSON of a map",
    E0335 => "malformed `secret_env` entry",
    E0336 => "malformed `secret_volumes` entry",
    E0337 => "variable set by both `env` and `secret_env`",
    E0338 => "a secret or key a step reads is missing",
    E0339 => "secrets readable by other users",
    E0340 => "a `file` output read outside its loop or repeat",
    E0341 => "a `file` output used as a value",
    E0342 => "a `file` output read by an attribute that takes no path",
    E0343 => "a `file` output carried by `repeat`",
    E0344 => "unknown attribute of a `volume` or `sidecar`",
    E0345 => "invalid volume `access_mode`",
    E0346 => "volume `size` is not a Kubernetes quantity",
    E0347 => "volume or sidecar declared twice, or with a reserved name",
    E0348 => "`data` names a volume ambiguously, or one not declared",
    E0350 => "`cache` is not `true` or `false`",
    E0351 => "`cache = true` on a `finally` step",
    E0353 => "`visuals` is not `true` or `false`",
    E0354 => "a step reads `KFP_UI_METADATA` without `visuals = true`",
    E0355 => "`kfpl runs visuals` names a step the run does not have",
    E0356 => "a resource value read from a step output of the wrong type",
    E0357 => "pod annotations larger than Kubernetes allows",
    E0358 => "a resource value from a step output is invalid when its step starts",
    // E04xx: dependency graph
    E0401 => "steps depend on each other in a cycle",
    E0402 => "step depends on itself",
    // E05xx: lowering to Argo
    E0501 => "text that Argo would read as a `{{…}}` reference",
    E0502 => "claim mounted where kfpl or Argo keep their own files",
    E0503 => "cannot write the compiled output",
    // E06xx: running locally
    E0601 => "a step failed",
    E0602 => "a step needs more GPUs than the machine has",
    E0603 => "no private mount namespace for `data` claims",
    E0604 => "a step's command was not found",
    E0605 => "a step ran past its `timeout`",
    E0606 => "`sync_source` could not be cloned or checked out",
    E0607 => "the state folder or the run records cannot be used",
    E0608 => "no such run",
    E0609 => "resuming a run of another pipeline",
    E0610 => "a step output that cannot be passed on",
    E0611 => "the run's record is incomplete",
    E0612 => "a typed step output is missing or not of its type",
    E0613 => "a step's image or its container engine is not available",
    // E07xx: the web view
    E0701 => "`kfpl ui` cannot serve on its address",
    // E08xx: formatting
    E0801 => "cannot write a formatted file",
    // E09xx: internal
    E0901 => "internal error (a bug in kfpl)",
    // Warnings
    W0201 => "param is never used",
    W0202 => "`let` is never used",
    W0301 => "interpolation inside single quotes in a shell command",
    W0302 => "metric name that Kubeflow Pipelines does not accept",
    W0303 => "`GIT_SYNC_REV` is not a full commit SHA",
    W0304 => "more metrics than Kubeflow Pipelines shows",
    W0501 => "compiled workflow close to the cluster's object size limit",
    W0601 => "a metric value that is not a number",
    W0602 => "a declared metric was never printed",
    W0603 => "a step output that is not UTF-8",
    W0604 => "the run's records could not be updated",
    W0605 => "Ctrl-C cannot be watched during a run",
    W0606 => "a declared output was never written",
    W0607 => "settings that apply on the cluster only",
    W0608 => "a secret value too short to hide in logs",
    W0609 => "a file output handed to a reader without a read-only mount",
    W0610 => "a sidecar that ignored SIGTERM was killed",
    W0611 => "a cached step that reads run information is never reused",
    W0612 => "a cached step that mounts `data` claims",
    W0613 => "a step's UI metadata is missing or not KFP's format",
    W0614 => "a visual that cannot be drawn locally",
    W0615 => "a recorded output or metric held a secret's value and was masked",
}

impl Code {
    /// Whether diagnostics with this code are errors (as opposed to warnings).
    pub fn is_error(self) -> bool {
        self.as_str().starts_with('E')
    }

    /// Codes no longer raised (kept so they are never reused, and so
    /// `kfpl explain` can say what became of them).
    pub fn is_removed(self) -> bool {
        matches!(self, Code::E0312)
    }

    /// Looks a code up by its name (`E0201`, `e0201` or `kfpl::E0201`).
    pub fn parse(name: &str) -> Option<Code> {
        let name = name.trim().trim_start_matches("kfpl::");
        Code::ALL
            .iter()
            .copied()
            .find(|code| code.as_str().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "kfpl::{}", self.as_str())
    }
}
