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
      \ 'kfpTripleString', 'kfpInterp', 'kfpComment', 'kfpAttribute', 'kfpKey']
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
