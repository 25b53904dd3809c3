" Vim syntax file
" Language:    kfp (the pipeline language of kfpl, Kubeflow / Argo ML pipelines)
" Filenames:   *.kfp
" Reserved:    pipeline param let step metric output string number true false raw percentage
" Contextual:  if else for repeat finally carry (where a declaration starts), in (after
"              `for NAME`), max (after repeat), then (in a carry line), until while (after
"              a repeat's }), and or not (in a condition), bool list file (after ':')

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
syn match   kfpAttribute   "\<\%(name\|description\|image\|command\|data\|sync_source\|env\|gpus\|cpu\|memory\|after\|retries\|timeout\|parallelism\|when\|node_selector\|tolerations\|annotations\|labels\|display_name\|cpu_request\|memory_request\|pod_spec_patch\|secret_env\|secret_volumes\|image_pull_secrets\|service_account\|ttl\|size\|access_mode\|storage_class\|keep\|visuals\|cache\)\>\ze\s*="
" bool, list and file are type words only after ':' (they stay valid names elsewhere);
" defined after kfpKey so that `param x: list = …` colours `list` as a type.
syn match   kfpType        "\%(:\s*\)\@<=\<\%(bool\|list\|file\)\>"

" Numbers: -?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?
syn match   kfpNumber      "-\=\<\d\+\%(\.\d\+\)\=\%([eE][+-]\=\d\+\)\=\>"

syn match   kfpOperator    "="
syn match   kfpDelimiter   "[:,]"

" Interpolation, inside both kinds of string: $<name>, $<step.output>, $<step.NAME>,
" $<item.field>. Outside strings the same text is a reference (a condition's operand, a
" `for` list, repeat's max, a carry value), so kfpInterp is not `contained`.
" '$$<' writes a literal '$<'; any other '$' (such as $HOME) is plain text.
" $<workflow.name|uid|pod_name|status> is run information.
syn match   kfpInterp       "\$<[a-z_][a-z0-9_]*\%(\.[a-z_][a-z0-9_]*\)\=>"
syn match   kfpRunInfo      "\$<workflow\.\%(name\|uid\|pod_name\|status\)>"
syn match   kfpInterpEscape "\$\$<" contained

" Version 2 blocks. Their words are contextual: `if`, `else`, `for`, `repeat`, `finally` and
" `carry` only where a declaration starts (a line's start, or after '{' or '}') and not before
" '=' (there they are attribute or map keys); anywhere else (a step, param or let called `if`,
" a list item `for`) they stay names. Between them and a later region starting at the same
" place, the region (defined later) wins: `} else if …` is a condition.
syn match   kfpConditional "\%(\%(^\|[{}]\)\s*\)\@<=\<else\>\%(\s*=\)\@!"
syn match   kfpRepeat      "\%(\%(^\|[{}]\)\s*\)\@<=\<repeat\>\%(\s*=\)\@!" nextgroup=kfpMax skipwhite
syn keyword kfpMax         contained max
syn match   kfpLoop        "\%(\%(^\|[{}]\)\s*\)\@<=\<for\>\%(\s*=\)\@!" nextgroup=kfpLoopName skipwhite
syn match   kfpLoopName    "\<[a-z_][a-z0-9_]*\>" contained nextgroup=kfpIn skipwhite
syn keyword kfpIn          contained in
syn match   kfpFinally     "\%(\%(^\|[{}]\)\s*\)\@<=\<finally\>\%(\s*=\)\@!"
syn match   kfpDefaults    "\%(\%(^\|[{}]\)\s*\)\@<=\<defaults\>\%(\s*=\)\@!"
" `volume NAME {` (a pipeline item) and `sidecar NAME {` (a step item): contextual too.
syn match   kfpVolume      "\%(\%(^\|[{}]\)\s*\)\@<=\<\%(volume\|sidecar\)\>\%(\s*=\)\@!" nextgroup=kfpVolumeName skipwhite
syn match   kfpVolumeName  "\<[a-z_][a-z0-9_]*\>" contained

" Conditions: an `if` head (to its '{'), a repeat's `until`/`while` tail (after its '}', to
" the end of the line), and a step's `when = …` (to the end of the line, a brace, a comment,
" or the next `NAME =` of a one-line block; `let when = …` is a let). `and`, `or`, `not` are words only in them.
syn keyword kfpLogic       contained and or not
syn match   kfpCompare     "[=!<>]=\|[<>]" contained
syn match   kfpParen       "[()]" contained
syn cluster kfpConditionItems contains=kfpInterp,kfpRunInfo,kfpLogic,kfpCompare,kfpParen,kfpString,kfpNumber,kfpBoolean,kfpComment
syn region  kfpCondition   matchgroup=kfpConditional start="\%(\%(^\|[{}]\)\s*\)\@<=\<\%(else\s\+\)\=if\>\%(\s*=\)\@!" end="\ze[{}]" contains=@kfpConditionItems
syn region  kfpCondition   matchgroup=kfpRepeat start="\%(}\s*\)\@<=\<\%(until\|while\)\>\%(\s*=\)\@!" end="$\|\ze[{}#]" contains=@kfpConditionItems
syn region  kfpCondition   start="\%(\%(\<let\s\+\)\@<!\<when\s*=\)\@<=\%(=\)\@!" end="$\|\ze\%([{}#]\|\<[A-Za-z_][A-Za-z0-9_]*\s*=\%(=\)\@!\)" contains=@kfpConditionItems

" carry NAME = INITIAL then NEXT, in a repeat body (to the end of the line, a brace, a comment
" or the next declaration of a one-line body).
syn keyword kfpThen        contained then
syn match   kfpCarryName   "\%(\<carry\s\+\)\@<=\<[a-z_][a-z0-9_]*\>" contained
syn region  kfpCarry       matchgroup=kfpRepeat start="\%(\%(^\|[{}]\)\s*\)\@<=\<carry\>\ze\s\+[a-z_][a-z0-9_]*\s*=\%(=\)\@!" end="$\|\ze\%([{}#]\|\<\%(step\|if\|for\|repeat\|carry\)\>\)" contains=kfpCarryName,kfpThen,kfpInterp,kfpRunInfo,kfpString,kfpNumber,kfpBoolean,kfpOperator,kfpDelimiter

" "..." with escapes \" \\ \n \t \$ (any other backslash escape is an error).
syn match   kfpBadEscape   "\\." contained
syn match   kfpEscape      "\\[\"\\nt$]" contained
syn region  kfpString      start=+"+ skip=+\\\\\|\\"+ end=+"+ contains=kfpBadEscape,kfpEscape,kfpInterpEscape,kfpInterp,kfpRunInfo,@Spell

" """...""" spanning lines (script bodies): no escapes apply inside. Defined after kfpString
" so that it wins where both start.
syn region  kfpTripleString start=+"""+ end=+"""+ contains=kfpInterpEscape,kfpInterp,kfpRunInfo,@Spell

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
hi def link kfpRunInfo       Special
hi def link kfpConditional   Conditional
hi def link kfpRepeat        Repeat
hi def link kfpMax           Repeat
hi def link kfpLoop          Repeat
hi def link kfpIn            Repeat
hi def link kfpLoopName      Identifier
hi def link kfpFinally       Exception
hi def link kfpDefaults      Keyword
hi def link kfpVolume        Keyword
hi def link kfpVolumeName    Type
hi def link kfpLogic         Operator
hi def link kfpCompare       Operator
hi def link kfpParen         Delimiter
hi def link kfpThen          Repeat
hi def link kfpCarryName     Identifier

let b:current_syntax = "kfp"

let &cpo = s:cpo_save
unlet s:cpo_save
