" Vim syntax file
" Language:    kfp (the pipeline language of kfpl, Kubeflow / Argo ML pipelines)
" Filenames:   *.kfp
" Reserved:    pipeline param let step metric output string number true false raw percentage

if exists("b:current_syntax")
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

syn case match

" Comments: '#' to the end of the line, outside strings.
syn keyword kfpTodo        contained TODO FIXME XXX NOTE
syn match   kfpComment     "#.*$" contains=kfpTodo,@Spell

" Declarations, with the declared name.
syn keyword kfpKeyword     pipeline nextgroup=kfpPipelineName skipwhite
syn keyword kfpKeyword     step     nextgroup=kfpStepName skipwhite
syn keyword kfpKeyword     param    nextgroup=kfpParamName skipwhite
syn keyword kfpKeyword     let      nextgroup=kfpLetName skipwhite
syn keyword kfpKeyword     output   nextgroup=kfpOutputName skipwhite
syn keyword kfpKeyword     metric
syn match   kfpPipelineName "\<[a-z_][a-z0-9_]*\>" contained
syn match   kfpStepName     "\<[a-z_][a-z0-9_]*\>" contained
syn match   kfpParamName    "\<[a-z_][a-z0-9_]*\>" contained
syn match   kfpLetName      "\<[a-z_][a-z0-9_]*\>" contained
syn match   kfpOutputName   "\<[a-z_][a-z0-9_]*\>" contained

" Types, booleans, metric formats.
syn keyword kfpType        string number
syn keyword kfpBoolean     true false
syn keyword kfpFormat      raw percentage

" Names before '=': any key (map keys such as GIT_SYNC_REV, unknown attributes), then the
" known pipeline and step attributes.
syn match   kfpKey         "\<[A-Za-z_][A-Za-z0-9_]*\>\ze\s*="
syn match   kfpAttribute   "\<\%(name\|description\|image\|command\|data\|sync_source\|env\|gpus\|cpu\|memory\|after\|retries\|timeout\)\>\ze\s*="
" bool, list and file are type words only after ':' (they stay valid names elsewhere);
" defined after kfpKey so that `param x: list = …` colours `list` as a type.
syn match   kfpType        "\%(:\s*\)\@<=\<\%(bool\|list\|file\)\>"

" Numbers: -?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?
syn match   kfpNumber      "-\=\<\d\+\%(\.\d\+\)\=\%([eE][+-]\=\d\+\)\=\>"

syn match   kfpOperator    "="
syn match   kfpDelimiter   "[:,]"

" Interpolation, inside both kinds of string: $<name>, $<step.output>, $<step.NAME>.
" '$$<' writes a literal '$<'; any other '$' (such as $HOME) is plain text.
syn match   kfpInterp       "\$<[a-z_][a-z0-9_]*\%(\.[a-z_][a-z0-9_]*\)\=>" contained
syn match   kfpInterpEscape "\$\$<" contained

" "..." with escapes \" \\ \n \t \$ (any other backslash escape is an error).
syn match   kfpBadEscape   "\\." contained
syn match   kfpEscape      "\\[\"\\nt$]" contained
syn region  kfpString      start=+"+ skip=+\\\\\|\\"+ end=+"+ contains=kfpBadEscape,kfpEscape,kfpInterpEscape,kfpInterp,@Spell

" """...""" spanning lines (script bodies): no escapes apply inside. Defined after kfpString
" so that it wins where both start.
syn region  kfpTripleString start=+"""+ end=+"""+ contains=kfpInterpEscape,kfpInterp,@Spell

syn sync fromstart

hi def link kfpTodo          Todo
hi def link kfpComment       Comment
hi def link kfpKeyword       Keyword
hi def link kfpPipelineName  Function
hi def link kfpStepName      Function
hi def link kfpParamName     Identifier
hi def link kfpLetName       Identifier
hi def link kfpOutputName    Identifier
hi def link kfpType          Type
hi def link kfpBoolean       Boolean
hi def link kfpFormat        Constant
hi def link kfpKey           Identifier
hi def link kfpAttribute     Identifier
hi def link kfpNumber        Number
hi def link kfpOperator      Operator
hi def link kfpDelimiter     Delimiter
hi def link kfpString        String
hi def link kfpTripleString  String
hi def link kfpEscape        SpecialChar
hi def link kfpBadEscape     Error
hi def link kfpInterp        Special
hi def link kfpInterpEscape  SpecialChar

let b:current_syntax = "kfp"

let &cpo = s:cpo_save
unlet s:cpo_save
