//! The pest parser generated from `grammar/kfp.pest`.

#![allow(missing_docs, unreachable_pub)] // generated code

/// The generated parser; `Rule` names every grammar rule.
#[derive(pest_derive::Parser)]
#[grammar = "grammar/kfp.pest"]
pub(crate) struct KfpParser;
