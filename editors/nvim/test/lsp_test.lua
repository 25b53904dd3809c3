-- Drives kfpl's server through Neovim's own LSP client, headless:
--   KFPL_LSP_CMD=target/debug/kfpl KFPL_NVIM_FILE=copy-of-tests/lsp/sample.kfp \
--   nvim --headless -u editors/nvim/init.lua -c 'luafile editors/nvim/test/lsp_test.lua'
-- Prints `ok: …` for each check; exits 1 at the first failure (`FAIL: …`).
local timeout = 60000

local function say(line)
  io.stdout:write(line .. '\n')
end

local function fail(message)
  say('FAIL: ' .. message)
  vim.cmd('cquit 1')
end

local function check(condition, message)
  if not condition then
    fail(message)
  end
  say('ok: ' .. message)
end

-- The LSP position of the `nth` occurrence of `needle` (plain text), `delta` bytes in.
local function position(bufnr, needle, nth, delta)
  local seen = 0
  for line, text in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    local from = 1
    while true do
      local col = string.find(text, needle, from, true)
      if not col then
        break
      end
      if seen == nth then
        return { line = line - 1, character = col - 1 + delta }
      end
      seen = seen + 1
      from = col + 1
    end
  end
  fail('`' .. needle .. '` not found')
end

-- The one result of a request to kfpl's server.
local function request(bufnr, method, params)
  local responses = vim.lsp.buf_request_sync(bufnr, method, params, timeout)
  for _, response in pairs(responses or {}) do
    if response.err then
      fail(method .. ': ' .. vim.inspect(response.err))
    end
    return response.result
  end
  fail(method .. ': no answer')
end

local function at(bufnr, needle, nth, delta)
  return { textDocument = vim.lsp.util.make_text_document_params(bufnr), position = position(bufnr, needle, nth, delta) }
end

local file = os.getenv('KFPL_NVIM_FILE')
vim.cmd('edit ' .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
check(vim.bo[buf].filetype == 'kfp', 'ftdetect sets filetype kfp')

local attached = vim.wait(timeout, function()
  return next(vim.lsp.buf_get_clients(buf)) ~= nil
end, 50)
check(attached, 'kfpl lsp attached to the buffer')

local arrived = vim.wait(timeout, function()
  return #vim.diagnostic.get(buf) > 0
end, 50)
check(arrived, 'diagnostics arrived')
local codes = {}
for _, diagnostic in ipairs(vim.diagnostic.get(buf)) do
  table.insert(codes, tostring(diagnostic.code))
end
table.sort(codes)
check(table.concat(codes, ' ') == 'E0201 E0402', 'diagnostics carry their codes: ' .. table.concat(codes, ' '))

local hover = request(buf, 'textDocument/hover', at(buf, 'learning_rate', 0, 2))
local shown = hover and hover.contents and hover.contents.value or ''
check(string.find(shown, 'param learning_rate: number', 1, true) ~= nil, 'hover on a param shows its type')

local definition = request(buf, 'textDocument/definition', at(buf, 'prepare.output', 1, 3))
if definition and definition[1] then
  definition = definition[1]
end
vim.lsp.util.jump_to_location(definition, 'utf-16')
local cursor = vim.api.nvim_win_get_cursor(0)
local line = vim.api.nvim_buf_get_lines(buf, cursor[1] - 1, cursor[1], false)[1]
check(string.find(line, 'step prepare', 1, true) ~= nil and cursor[2] == 7,
  'definition of $<prepare.output> jumps to the step (' .. cursor[1] .. ':' .. cursor[2] .. ')')

local params = at(buf, 'step prepare', 0, 6)
params.newName = 'fetch'
local edit = request(buf, 'textDocument/rename', params)
vim.lsp.util.apply_workspace_edit(edit, 'utf-16')
local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
local _, fetches = string.gsub(text, 'fetch', '')
local left = string.find(text, 'step prepare', 1, true) or string.find(text, '<prepare', 1, true)
  or string.find(text, '[prepare', 1, true)
-- sample.kfp has `fetch /data` in a command already: 1 + 5 renamed uses.
check(fetches == 6 and left == nil, 'rename of a step updates every use (' .. fetches .. ' `fetch`)')

vim.cmd('qall!')
