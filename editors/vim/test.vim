" Headless check of syntax/kfp.vim; run through ./test.sh.
" Each check: [line number, text at the position (its first occurrence on the line), syntax group].
set nomore
let s:lines = [
      \ '# a comment with pipeline and "no string"',
      \ 'pipeline demo {',
      \ '  name = "demo"',
      \ '  param rate: number = 0.01',
      \ '  param tag: string = "v1"',
      \ '  let data = ["claim:/data"]',
      \ '  step train {',
      \ '    image = "img:1.0"  # trailing',
      \ '    env = { GIT_SYNC_REV = "$<tag>" }',
      \ '    gpus = 1',
      \ '    output model',
      \ '    metric "acc": percentage',
      \ '    metric "loss": raw',
      \ '    description = "x \"q\" \$<no> $$<no> $HOME # no comment $<train.output>"',
      \ '    command = """',
      \ '      echo $<rate> $HOME $$<lit> \',
      \ '        # not a comment, step true 1',
      \ '    """',
      \ '    retries = -2.5e3',
      \ '  }',
      \ '  let on = true',
      \ '  let off = false',
      \ '}',
      \ '  param xs: list',
      \ '  let file = 1',
      \ '    output: bool',
      \ '  param list: string',
      \ '  if $<flip.output> == "heads" and not ($<deploy> == false) {',
      \ '  } else if $<n> != 2 or $<m> >= 3 {',
      \ '  } else {',
      \ '    when = $<deploy> and $<tries> <= 2  # c',
      \ '  step one { when = not $<deploy> command = "and $<workflow.uid>" }',
      \ '  for lr in $<lrs> {',
      \ '    parallelism = 2',
      \ '  for c in configs { step show { command = "$<c.name>" } }',
      \ '  repeat max $<tries> {',
      \ '    carry guess = 0 then $<next.output>',
      \ '  } until $<next.output> >= 3  # done',
      \ '  repeat max 20 { carry k = "a" then $<s.output> step s { image = "x" } } while not $<s.done>',
      \ '  finally {',
      \ '    if $<workflow.status> == "Failed" {',
      \ '  let if = "x"',
      \ '  param repeat: number',
      \ '  let in = [for, else, finally, max, carry, then, until, while, and, or, not, list]',
      \ '  step else { command = "if for repeat finally and" }',
      \ '  step finally { after = [list] }',
      \ '  if = 1',
      \ '  step s { repeat = 1 else = 2 for = 3 }',
      \ '  } while = 1',
      \ '    data = if',
      \ '    output until',
      \ '  env = { carry = "1", and = "2" }',
      \ '  let when = a and b',
      \ '  description = "a > b"  # if for',
      \ '  defaults { retries = 1 }',
      \ '  let defaults = 1',
      \ '  step g { tolerations = [] secret_volumes = [] }',
      \ '  step v { visuals = true }',
      \ '  step h { cache = true }',
      \ '  volume scratch_space { size = "1Gi" keep = true }',
      \ '  let volume = 1',
      \ '    sidecar db { image = "redis" }',
      \ '  step sidecar { volume = 2 }',
      \ ]
let s:checks = [
      \ [1, '#', 'kfpComment'], [1, 'pipeline', 'kfpComment'], [1, '"no', 'kfpComment'],
      \ [2, 'pipeline', 'kfpKeyword'], [2, 'demo', 'kfpPipelineName'],
      \ [3, 'name', 'kfpAttribute'], [3, '=', 'kfpOperator'], [3, '"demo"', 'kfpString'],
      \ [4, 'param', 'kfpKeyword'], [4, 'rate', 'kfpParamName'], [4, 'number', 'kfpType'], [4, '0.01', 'kfpNumber'],
      \ [5, 'string', 'kfpType'], [5, '"v1"', 'kfpString'],
      \ [6, 'let', 'kfpKeyword'], [6, 'data', 'kfpLetName'], [6, '"claim', 'kfpString'],
      \ [7, 'step', 'kfpKeyword'], [7, 'train', 'kfpStepName'],
      \ [8, 'image', 'kfpAttribute'], [8, '1.0', 'kfpString'], [8, '# trailing', 'kfpComment'],
      \ [9, 'env', 'kfpAttribute'], [9, 'GIT_SYNC_REV', 'kfpKey'], [9, '$<tag>', 'kfpInterp'],
      \ [10, 'gpus', 'kfpAttribute'], [10, '1', 'kfpNumber'],
      \ [11, 'output', 'kfpKeyword'], [11, 'model', 'kfpOutputName'],
      \ [12, 'metric', 'kfpKeyword'], [12, '"acc"', 'kfpString'], [12, 'percentage', 'kfpFormat'],
      \ [13, 'raw', 'kfpFormat'],
      \ [14, '\"', 'kfpEscape'], [14, '\$', 'kfpEscape'], [14, '<no>', 'kfpString'],
      \ [14, '$$<', 'kfpInterpEscape'], [14, '$HOME', 'kfpString'], [14, '# no', 'kfpString'],
      \ [14, '$<train.output>', 'kfpInterp'],
      \ [15, '"""', 'kfpTripleString'],
      \ [16, '$<rate>', 'kfpInterp'], [16, '$HOME', 'kfpTripleString'], [16, '$$<', 'kfpInterpEscape'],
      \ [16, '\', 'kfpTripleString'],
      \ [17, '#', 'kfpTripleString'], [17, 'step', 'kfpTripleString'], [17, 'true', 'kfpTripleString'],
      \ [17, '1', 'kfpTripleString'],
      \ [18, '"""', 'kfpTripleString'],
      \ [19, 'retries', 'kfpAttribute'], [19, '-2.5e3', 'kfpNumber'],
      \ [21, 'true', 'kfpBoolean'], [22, 'false', 'kfpBoolean'],
      \ [24, 'list', 'kfpType'], [27, 'list', 'kfpParamName'], [25, 'file', 'kfpLetName'],
      \ [26, 'bool', 'kfpType'],
      \ [28, 'if', 'kfpConditional'], [28, '$<flip.output>', 'kfpInterp'], [28, '==', 'kfpCompare'], [28, '"heads"', 'kfpString'],
      \ [28, 'and', 'kfpLogic'], [28, 'not', 'kfpLogic'], [28, '(', 'kfpParen'], [28, 'false', 'kfpBoolean'],
      \ [28, ')', 'kfpParen'], [29, 'else if', 'kfpConditional'], [29, '!=', 'kfpCompare'], [29, 'or', 'kfpLogic'],
      \ [29, '>=', 'kfpCompare'], [29, '3', 'kfpNumber'], [30, 'else', 'kfpConditional'], [31, 'when', 'kfpAttribute'],
      \ [31, 'and', 'kfpLogic'], [31, '<=', 'kfpCompare'], [31, '2', 'kfpNumber'], [31, '# c', 'kfpComment'],
      \ [32, 'not', 'kfpLogic'], [32, 'command', 'kfpAttribute'], [32, '"and', 'kfpString'], [32, '$<workflow.uid>', 'kfpRunInfo'],
      \ [33, 'for', 'kfpLoop'], [33, 'lr', 'kfpLoopName'], [33, 'in', 'kfpIn'], [33, '$<lrs>', 'kfpInterp'],
      \ [34, 'parallelism', 'kfpAttribute'], [35, 'for', 'kfpLoop'], [35, 'c', 'kfpLoopName'], [35, 'in', 'kfpIn'],
      \ [35, 'step', 'kfpKeyword'], [35, '$<c.name>', 'kfpInterp'], [36, 'repeat', 'kfpRepeat'], [36, 'max', 'kfpMax'],
      \ [36, '$<tries>', 'kfpInterp'], [37, 'carry', 'kfpRepeat'], [37, 'guess', 'kfpCarryName'], [37, '=', 'kfpOperator'],
      \ [37, '0', 'kfpNumber'], [37, 'then', 'kfpThen'], [37, '$<next.output>', 'kfpInterp'], [38, 'until', 'kfpRepeat'],
      \ [38, '>=', 'kfpCompare'], [38, '# done', 'kfpComment'], [39, 'repeat', 'kfpRepeat'], [39, 'max', 'kfpMax'],
      \ [39, 'carry', 'kfpRepeat'], [39, 'k', 'kfpCarryName'], [39, 'then', 'kfpThen'], [39, 'step', 'kfpKeyword'],
      \ [39, 'while', 'kfpRepeat'], [39, 'not', 'kfpLogic'], [40, 'finally', 'kfpFinally'], [41, 'if', 'kfpConditional'],
      \ [41, '$<workflow.status>', 'kfpRunInfo'], [42, 'if', 'kfpLetName'], [43, 'repeat', 'kfpParamName'], [44, 'in', 'kfpLetName'],
      \ [44, 'for', ''], [44, 'else', ''], [44, 'finally', ''], [44, 'max', ''],
      \ [44, 'carry', ''], [44, 'then', ''], [44, 'until', ''], [44, 'while', ''],
      \ [44, 'and', ''], [44, 'not', ''], [44, 'list', ''], [45, 'else', 'kfpStepName'],
      \ [45, '"if for repeat finally and"', 'kfpString'], [46, 'finally', 'kfpStepName'], [46, 'after', 'kfpAttribute'], [46, 'list', ''],
      \ [47, 'if', 'kfpKey'], [48, 'repeat', 'kfpKey'], [48, 'else', 'kfpKey'], [48, 'for', 'kfpKey'],
      \ [49, 'while', 'kfpKey'], [50, 'if', ''], [51, 'until', 'kfpOutputName'], [52, 'carry', 'kfpKey'],
      \ [52, 'and', 'kfpKey'], [53, 'when', 'kfpLetName'], [53, 'and', ''], [54, '>', 'kfpString'],
      \ [54, 'if for', 'kfpComment'], [55, 'defaults', 'kfpDefaults'], [56, 'defaults', 'kfpLetName'],
      \ [57, 'tolerations', 'kfpAttribute'], [57, 'secret_volumes', 'kfpAttribute'],
      \ [58, 'visuals', 'kfpAttribute'],
      \ [59, 'cache', 'kfpAttribute'],
      \ [60, 'volume', 'kfpVolume'], [60, 'scratch_space', 'kfpVolumeName'], [60, 'size', 'kfpAttribute'],
      \ [60, 'keep', 'kfpAttribute'], [60, 'true', 'kfpBoolean'], [61, 'volume', 'kfpLetName'],
      \ [62, 'sidecar', 'kfpVolume'], [62, 'db', 'kfpVolumeName'], [62, 'image', 'kfpAttribute'],
      \ [63, 'sidecar', 'kfpStepName'],
      \ ]
enew
call setline(1, s:lines)
set filetype=kfp
syntax on
let s:failures = []
for [s:lnum, s:text, s:want] in s:checks
  let s:col = stridx(getline(s:lnum), s:text) + 1
  if s:col == 0
    call add(s:failures, printf('line %d: %s not found', s:lnum, s:text))
    continue
  endif
  for s:c in range(s:col, s:col + len(s:text) - 1)
    let s:got = synIDattr(synID(s:lnum, s:c, 1), 'name')
    if s:got !=# s:want
      call add(s:failures, printf('line %d col %d (%s): want %s, got %s', s:lnum, s:c, s:text, s:want, s:got))
      break
    endif
  endfor
endfor
" Every group must be linked to a highlight group.
for s:g in ['kfpKeyword', 'kfpType', 'kfpBoolean', 'kfpFormat', 'kfpNumber', 'kfpString',
      \ 'kfpTripleString', 'kfpInterp', 'kfpComment', 'kfpAttribute', 'kfpKey', 'kfpRunInfo',
      \ 'kfpConditional', 'kfpRepeat', 'kfpMax', 'kfpLoop', 'kfpIn', 'kfpLoopName', 'kfpFinally',
      \ 'kfpLogic', 'kfpCompare', 'kfpParen', 'kfpThen', 'kfpCarryName']
  if synIDattr(synIDtrans(hlID(s:g)), 'name') ==# s:g
    call add(s:failures, s:g . ' is not linked to a standard group')
  endif
endfor
let s:out = exists('g:kfp_test_out') ? g:kfp_test_out : 'test.out'
if empty(s:failures)
  call writefile([printf('vim syntax: %d checks passed', len(s:checks))], s:out)
  qa!
endif
call writefile(s:failures + [printf('vim syntax: %d failure(s)', len(s:failures))], s:out)
cquit
