//! The requests: decoding each one's params, answering from the document
//! and its analysis, encoding the result.

use lsp_server::{ErrorCode, Request, ResponseError};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{CodeActionKind, Url};

use super::analysis::Analysis;
use super::text::LineIndex;
use super::{Answer, Document, Server, TEST_PANIC_METHOD, assist, error, fixes, navigate, outline};

impl Server {
    pub(super) fn request(&mut self, request: Request) -> Answer {
        let method = request.method.as_str();
        match method {
            req::HoverRequest::METHOD => self.on::<req::HoverRequest>(request, Self::hover),
            req::GotoDefinition::METHOD => {
                self.on::<req::GotoDefinition>(request, Self::definition)
            }
            req::DocumentHighlightRequest::METHOD => {
                self.on::<req::DocumentHighlightRequest>(request, Self::highlights)
            }
            req::References::METHOD => self.on::<req::References>(request, Self::references),
            req::PrepareRenameRequest::METHOD => {
                self.on::<req::PrepareRenameRequest>(request, Self::prepare_rename)
            }
            req::Rename::METHOD => self.on::<req::Rename>(request, Self::rename),
            req::DocumentSymbolRequest::METHOD => {
                self.on::<req::DocumentSymbolRequest>(request, Self::symbols)
            }
            req::Formatting::METHOD => self.on::<req::Formatting>(request, Self::formatting),
            req::Completion::METHOD => self.on::<req::Completion>(request, Self::completion),
            req::SemanticTokensFullRequest::METHOD => {
                self.on::<req::SemanticTokensFullRequest>(request, Self::semantic_tokens)
            }
            req::FoldingRangeRequest::METHOD => {
                self.on::<req::FoldingRangeRequest>(request, Self::folding)
            }
            req::CodeActionRequest::METHOD => {
                self.on::<req::CodeActionRequest>(request, Self::code_actions)
            }
            req::InlayHintRequest::METHOD => {
                self.on::<req::InlayHintRequest>(request, Self::inlay_hints)
            }
            TEST_PANIC_METHOD if self.test_panic => panic!("{TEST_PANIC_METHOD} was called"),
            _ => Err(error(
                ErrorCode::MethodNotFound,
                format!("kfpl lsp does not handle `{method}`"),
            )),
        }
    }

    /// Decodes a request's params, runs `handler`, encodes its result.
    fn on<R: req::Request>(
        &self,
        request: Request,
        handler: fn(&Self, R::Params) -> Result<R::Result, ResponseError>,
    ) -> Answer {
        let params = serde_json::from_value(request.params)
            .map_err(|e| error(ErrorCode::InvalidParams, e.to_string()))?;
        let result = handler(self, params)?;
        serde_json::to_value(result).map_err(|e| error(ErrorCode::InternalError, e.to_string()))
    }

    fn document(&self, uri: &Url) -> Result<&Document, ResponseError> {
        self.documents
            .get(uri)
            .ok_or_else(|| error(ErrorCode::InvalidParams, format!("`{uri}` is not open")))
    }

    /// A document, its analysis, and the byte offset of a position in it.
    fn at(
        &self,
        at: &lsp_types::TextDocumentPositionParams,
    ) -> Result<(&Document, Analysis, usize), ResponseError> {
        let document = self.document(&at.text_document.uri)?;
        let offset = LineIndex::new(&document.text).offset(at.position);
        Ok((document, Analysis::new(&document.text), offset))
    }

    fn hover(
        &self,
        params: lsp_types::HoverParams,
    ) -> Result<Option<lsp_types::Hover>, ResponseError> {
        let (document, analysis, offset) = self.at(&params.text_document_position_params)?;
        let text = &document.text;
        let hover = assist::hover(&analysis, text, offset, &document.diagnostics);
        Ok(hover.map(|h| assist::to_hover(&LineIndex::new(text), h)))
    }

    fn definition(
        &self,
        params: lsp_types::GotoDefinitionParams,
    ) -> Result<Option<lsp_types::GotoDefinitionResponse>, ResponseError> {
        let at = &params.text_document_position_params;
        let (document, analysis, offset) = self.at(at)?;
        let index = LineIndex::new(&document.text);
        Ok(navigate::definition(&analysis, offset).map(|span| {
            let uri = at.text_document.uri.clone();
            lsp_types::Location::new(uri, index.range(span)).into()
        }))
    }

    /// Every occurrence of the name under the cursor, the declaration as a write.
    fn highlights(
        &self,
        params: lsp_types::DocumentHighlightParams,
    ) -> Result<Option<Vec<lsp_types::DocumentHighlight>>, ResponseError> {
        let (document, analysis, offset) = self.at(&params.text_document_position_params)?;
        let index = LineIndex::new(&document.text);
        let Some(target) = analysis.at(offset).map(|o| o.target.clone()) else {
            return Ok(None);
        };
        let highlights = analysis
            .of(&target)
            .map(|o| lsp_types::DocumentHighlight {
                range: index.range(o.span),
                kind: Some(if o.declaration {
                    lsp_types::DocumentHighlightKind::WRITE
                } else {
                    lsp_types::DocumentHighlightKind::READ
                }),
            })
            .collect();
        Ok(Some(highlights))
    }

    fn references(
        &self,
        params: lsp_types::ReferenceParams,
    ) -> Result<Option<Vec<lsp_types::Location>>, ResponseError> {
        let at = &params.text_document_position;
        let (document, analysis, offset) = self.at(at)?;
        let spans = navigate::references(&analysis, offset, params.context.include_declaration);
        let index = LineIndex::new(&document.text);
        Ok(Some(navigate::locations(
            &at.text_document.uri,
            &index,
            &spans,
        )))
    }

    fn prepare_rename(
        &self,
        at: lsp_types::TextDocumentPositionParams,
    ) -> Result<Option<lsp_types::PrepareRenameResponse>, ResponseError> {
        let (document, analysis, offset) = self.at(&at)?;
        let (span, name) = navigate::prepare_rename(&analysis, offset)
            .map_err(|why| error(ErrorCode::RequestFailed, why))?;
        let range = LineIndex::new(&document.text).range(span);
        Ok(Some(
            lsp_types::PrepareRenameResponse::RangeWithPlaceholder {
                range,
                placeholder: name,
            },
        ))
    }

    fn rename(
        &self,
        params: lsp_types::RenameParams,
    ) -> Result<Option<lsp_types::WorkspaceEdit>, ResponseError> {
        let at = &params.text_document_position;
        let (document, analysis, offset) = self.at(at)?;
        let edits = navigate::rename(&analysis, &document.text, offset, &params.new_name)
            .map_err(|why| error(ErrorCode::RequestFailed, why))?;
        let index = LineIndex::new(&document.text);
        let uri = &at.text_document.uri;
        Ok(Some(navigate::workspace_edit(uri, &index, edits)))
    }

    fn symbols(
        &self,
        params: lsp_types::DocumentSymbolParams,
    ) -> Result<Option<lsp_types::DocumentSymbolResponse>, ResponseError> {
        let document = self.document(&params.text_document.uri)?;
        let analysis = Analysis::new(&document.text);
        let index = LineIndex::new(&document.text);
        let symbols = outline::document_symbols(&analysis, &index);
        Ok(Some(symbols.into()))
    }

    fn formatting(
        &self,
        params: lsp_types::DocumentFormattingParams,
    ) -> Result<Option<Vec<lsp_types::TextEdit>>, ResponseError> {
        let document = self.document(&params.text_document.uri)?;
        let edit = assist::formatting(&document.text)
            .map_err(|why| error(ErrorCode::RequestFailed, why))?;
        Ok(Some(edit.into_iter().collect()))
    }

    fn completion(
        &self,
        params: lsp_types::CompletionParams,
    ) -> Result<Option<lsp_types::CompletionResponse>, ResponseError> {
        let (document, analysis, offset) = self.at(&params.text_document_position)?;
        let items = assist::completion(&analysis, &document.text, offset, self.snippets);
        Ok(Some(items.into()))
    }

    fn semantic_tokens(
        &self,
        params: lsp_types::SemanticTokensParams,
    ) -> Result<Option<lsp_types::SemanticTokensResult>, ResponseError> {
        let document = self.document(&params.text_document.uri)?;
        let index = LineIndex::new(&document.text);
        let data = outline::semantic_tokens(&document.text, &index);
        Ok(Some(
            lsp_types::SemanticTokens {
                result_id: None,
                data,
            }
            .into(),
        ))
    }

    fn folding(
        &self,
        params: lsp_types::FoldingRangeParams,
    ) -> Result<Option<Vec<lsp_types::FoldingRange>>, ResponseError> {
        let document = self.document(&params.text_document.uri)?;
        let index = LineIndex::new(&document.text);
        Ok(Some(outline::folding_ranges(&document.text, &index)))
    }

    fn inlay_hints(
        &self,
        params: lsp_types::InlayHintParams,
    ) -> Result<Option<Vec<lsp_types::InlayHint>>, ResponseError> {
        let document = self.document(&params.text_document.uri)?;
        let index = LineIndex::new(&document.text);
        let analysis = Analysis::new(&document.text);
        let wanted = index.span(params.range);
        let hints = assist::inlay_hints(&analysis, &document.text, wanted)
            .into_iter()
            .map(|(offset, label)| lsp_types::InlayHint {
                position: index.position(offset),
                label: label.into(),
                kind: Some(lsp_types::InlayHintKind::TYPE),
                text_edits: None,
                tooltip: None,
                padding_left: None,
                padding_right: None,
                data: None,
            })
            .collect();
        Ok(Some(hints))
    }

    fn code_actions(
        &self,
        params: lsp_types::CodeActionParams,
    ) -> Result<Option<lsp_types::CodeActionResponse>, ResponseError> {
        let uri = &params.text_document.uri;
        let document = self.document(uri)?;
        let index = LineIndex::new(&document.text);
        let wanted = index.span(params.range);
        let analysis = Analysis::new(&document.text);
        let fixes = fixes::quick_fixes(&analysis, &document.text, &document.diagnostics, wanted);
        let actions = fixes
            .into_iter()
            .map(|fix| {
                let edit = navigate::workspace_edit(uri, &index, fix.edits);
                lsp_types::CodeAction {
                    title: fix.title,
                    kind: Some(CodeActionKind::QUICKFIX),
                    edit: Some(edit),
                    is_preferred: Some(fix.preferred),
                    ..Default::default()
                }
                .into()
            })
            .collect();
        Ok(Some(actions))
    }
}
