//! The file's shape: document symbols (pipeline → params, lets, steps →
//! outputs), folding ranges (blocks, multi-line lists and strings,
//! comment runs) and semantic tokens (from the lexer).

use lsp_types::{
    DocumentSymbol, FoldingRange, FoldingRangeKind, SemanticToken, SemanticTokenType,
    SemanticTokensLegend, SymbolKind,
};

use super::analysis::Analysis;
use super::text::{LineIndex, utf16_len};
use crate::source::Span;
use crate::syntax::KEYWORDS;
use crate::syntax::ast::{self, Item, StepItem};
use crate::syntax::lex::{self, Kind};

/// The outline of the file.
pub fn document_symbols(analysis: &Analysis, index: &LineIndex<'_>) -> Vec<DocumentSymbol> {
    let Some(program) = &analysis.program else {
        return Vec::new();
    };
    program
        .pipelines
        .iter()
        .map(|pipeline| {
            let children = pipeline
                .items
                .iter()
                .filter_map(|item| item_symbol(item, index))
                .collect();
            symbol(
                index,
                (&pipeline.name, pipeline.span),
                SymbolKind::MODULE,
                None,
                children,
            )
        })
        .collect()
}

fn item_symbol(item: &Item, index: &LineIndex<'_>) -> Option<DocumentSymbol> {
    Some(match item {
        Item::Attribute(_) | Item::Defaults(_) => return None,
        Item::If(_) | Item::For(_) | Item::Repeat(_) | Item::Finally(_) => {
            let (word, keyword) = match item {
                Item::If(b) => ("if", b.keyword),
                Item::For(b) => ("for", b.keyword),
                Item::Repeat(b) => ("repeat", b.keyword),
                Item::Finally(b) => ("finally", b.keyword),
                _ => return None,
            };
            let children = item
                .blocks()
                .into_iter()
                .flat_map(|block| &block.items)
                .filter_map(|item| item_symbol(item, index))
                .collect();
            let name = ast::Ident {
                name: word.into(),
                span: keyword,
            };
            symbol(
                index,
                (&name, item.span()),
                SymbolKind::NAMESPACE,
                Some(word.into()),
                children,
            )
        }
        Item::Param(param) => {
            let ty = crate::check::type_word(param.ty);
            symbol(
                index,
                (&param.name, param.span),
                SymbolKind::VARIABLE,
                Some(format!("param: {ty}")),
                Vec::new(),
            )
        }
        Item::Volume(volume) => symbol(
            index,
            (&volume.name, volume.span),
            SymbolKind::STRUCT,
            Some("volume".into()),
            Vec::new(),
        ),
        Item::Let(decl) => symbol(
            index,
            (&decl.name, decl.span),
            SymbolKind::CONSTANT,
            Some("let".into()),
            Vec::new(),
        ),
        Item::Step(step) => {
            let outputs = step
                .items
                .iter()
                .filter_map(|item| match item {
                    StepItem::Output(output) => Some(symbol(
                        index,
                        (&output.name, output.span),
                        SymbolKind::FIELD,
                        Some("output".into()),
                        Vec::new(),
                    )),
                    StepItem::Sidecar(sidecar) => Some(symbol(
                        index,
                        (&sidecar.name, sidecar.span),
                        SymbolKind::OBJECT,
                        Some("sidecar".into()),
                        Vec::new(),
                    )),
                    _ => None,
                })
                .collect();
            symbol(
                index,
                (&step.name, step.span),
                SymbolKind::FUNCTION,
                Some("step".into()),
                outputs,
            )
        }
    })
}

#[allow(deprecated)] // `deprecated` is a required field of the struct
fn symbol(
    index: &LineIndex<'_>,
    (name, whole): (&ast::Ident, Span),
    kind: SymbolKind,
    detail: Option<String>,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    // The selection must lie inside the range, even for a repaired AST.
    let whole = whole.to(name.span);
    DocumentSymbol {
        name: if name.name.is_empty() {
            "?".into()
        } else {
            name.name.clone()
        },
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: index.range(whole),
        selection_range: index.range(name.span),
        children: Some(children),
    }
}

/// Blocks, multi-line brackets and strings, and runs of comment lines.
pub fn folding_ranges(text: &str, index: &LineIndex<'_>) -> Vec<FoldingRange> {
    let mut out = Vec::new();
    let mut open: Vec<u32> = Vec::new();
    let mut string_start = None;
    let mut comments: Option<(u32, u32)> = None;
    let line = |offset: u32| index.position(offset as usize).line;
    let mut fold = |start: u32, end: u32, kind: Option<FoldingRangeKind>| {
        if end > start {
            out.push(FoldingRange {
                start_line: start,
                end_line: end,
                kind,
                ..FoldingRange::default()
            });
        }
    };
    for token in lex::lex(text) {
        let (start, end) = (line(token.span.start), line(token.span.end));
        if token.kind == Kind::Comment {
            comments = match comments {
                Some((first, last)) if start == last + 1 => Some((first, start)),
                run => {
                    if let Some((first, last)) = run {
                        fold(first, last, Some(FoldingRangeKind::Comment));
                    }
                    Some((start, start))
                }
            };
            continue;
        }
        match token.kind {
            Kind::LBrace | Kind::LBracket | Kind::LParen => open.push(start),
            // A block folds up to the line before its closer, which stays visible.
            Kind::RBrace | Kind::RBracket | Kind::RParen => {
                if let Some(first) = open.pop() {
                    fold(first, start.saturating_sub(1), None);
                }
            }
            Kind::Quote if string_start.is_none() && !token.open => string_start = Some(start),
            Kind::Quote => {
                if let Some(first) = string_start.take() {
                    fold(first, end, None);
                }
            }
            _ => {}
        }
    }
    if let Some((first, last)) = comments {
        fold(first, last, Some(FoldingRangeKind::Comment));
    }
    out
}

/// The token types, in the order their indices are sent.
const TOKEN_TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::COMMENT,
    SemanticTokenType::OPERATOR,
    SemanticTokenType::PROPERTY,
];

/// What the server says its token indices mean.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TOKEN_TYPES.to_vec(),
        token_modifiers: Vec::new(),
    }
}

fn token_type(kind: Kind, word: &str, keyword: bool, next_is_assign: bool) -> Option<u32> {
    let ty = match kind {
        Kind::Word if keyword || KEYWORDS.contains(&word) || matches!(word, "true" | "false") => {
            SemanticTokenType::KEYWORD
        }
        Kind::Word if next_is_assign => SemanticTokenType::PROPERTY,
        Kind::Word => SemanticTokenType::VARIABLE,
        Kind::Quote | Kind::Text => SemanticTokenType::STRING,
        Kind::Interp => SemanticTokenType::VARIABLE,
        Kind::Number => SemanticTokenType::NUMBER,
        Kind::Comment => SemanticTokenType::COMMENT,
        Kind::Assign | Kind::Colon | Kind::Compare => SemanticTokenType::OPERATOR,
        _ => return None,
    };
    TOKEN_TYPES.iter().position(|t| *t == ty).map(|i| i as u32)
}

/// Every token of the file, relative-encoded, one per line piece (a
/// multi-line string is sent line by line: not every client takes
/// multi-line tokens).
pub fn semantic_tokens(text: &str, index: &LineIndex<'_>) -> Vec<SemanticToken> {
    let all: Vec<lex::Token> = lex::lex(text).collect();
    // Contextual words (`if`, `in`, `and`…) are keywords only in their places.
    let keywords = crate::repl::highlight::keywords_in_context(text, &all);
    let tokens: Vec<(lex::Token, bool)> = all
        .into_iter()
        .zip(keywords)
        .filter(|(t, _)| t.kind != Kind::Space)
        .collect();
    let mut out = Vec::new();
    let mut last = (0u32, 0u32);
    for (n, &(token, keyword)) in tokens.iter().enumerate() {
        let next_is_assign = tokens
            .get(n + 1)
            .is_some_and(|(t, _)| t.kind == Kind::Assign);
        let Some(ty) = token_type(token.kind, token.text(text), keyword, next_is_assign) else {
            continue;
        };
        let mut start = token.span.start as usize;
        for piece in token.text(text).split_inclusive('\n') {
            let trimmed = piece.trim_end_matches(['\n', '\r']);
            let length = utf16_len(trimmed) as u32;
            if length > 0 {
                let at = index.position(start);
                let delta_start = if at.line == last.0 {
                    at.character - last.1
                } else {
                    at.character
                };
                out.push(SemanticToken {
                    delta_line: at.line - last.0,
                    delta_start,
                    length,
                    token_type: ty,
                    token_modifiers_bitset: 0,
                });
                last = (at.line, at.character);
            }
            start += piece.len();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of each semantic token of `text` that is a keyword.
    fn keywords(text: &str) -> Vec<String> {
        let index = LineIndex::new(text);
        let keyword = TOKEN_TYPES
            .iter()
            .position(|t| *t == SemanticTokenType::KEYWORD)
            .unwrap_or(0) as u32;
        let lines: Vec<&str> = text.lines().collect();
        let (mut line, mut column) = (0usize, 0usize);
        let mut out = Vec::new();
        for token in semantic_tokens(text, &index) {
            if token.delta_line > 0 {
                line += token.delta_line as usize;
                column = token.delta_start as usize;
            } else {
                column += token.delta_start as usize;
            }
            if token.token_type == keyword {
                let word: String = lines[line]
                    .chars()
                    .skip(column)
                    .take(token.length as usize)
                    .collect();
                out.push(word);
            }
        }
        out
    }

    /// Contextual words are keywords in their places and names elsewhere.
    #[test]
    fn contextual_words_are_keywords_only_in_place() {
        let text = "pipeline p {\n  param if: bool = true\n  if $<if> and true {\n    step for { image = \"a\" command = \"b\" }\n  }\n}\n";
        assert_eq!(
            keywords(text),
            [
                "pipeline", "param", "bool", "true", "if", "and", "true", "step"
            ]
        );
    }

    /// `volume` and `sidecar` are keywords where a declaration starts, and
    /// names elsewhere (a let, an attribute).
    #[test]
    fn volume_and_sidecar_are_keywords_only_in_place() {
        let text = "pipeline p {\n  let volume = 1\n  volume v { size = \"1Gi\" }\n  step s {\n    sidecar = 2\n    sidecar db { image = \"r\" command = \"r\" }\n  }\n}\n";
        assert_eq!(
            keywords(text),
            ["pipeline", "let", "volume", "step", "sidecar"]
        );
    }

    /// The outline lists a volume beside the steps, and a sidecar inside its step.
    #[test]
    fn the_outline_shows_volumes_and_sidecars() {
        let text = "pipeline p {\n  volume scratch { size = \"1Gi\" }\n  step s {\n    image = \"a\"\n    command = \"b\"\n    output o\n    sidecar db { image = \"r\" command = \"r\" }\n  }\n}\n";
        let analysis = Analysis::new(text);
        let index = LineIndex::new(text);
        let symbols = document_symbols(&analysis, &index);
        let describe = |symbols: &[DocumentSymbol]| -> Vec<String> {
            symbols
                .iter()
                .map(|s| format!("{} {}", s.detail.clone().unwrap_or_default(), s.name))
                .collect()
        };
        let pipeline = &symbols[0];
        let items = pipeline.children.clone().unwrap_or_default();
        assert_eq!(describe(&items), ["volume scratch", "step s"]);
        let step = items[1].children.clone().unwrap_or_default();
        assert_eq!(describe(&step), ["output o", "sidecar db"]);
    }
}
