-- kfpl's language server (`kfpl lsp`) for Neovim.
--
--   require('kfpl').setup()                          -- runs `kfpl lsp` from PATH
--   require('kfpl').setup({ cmd = { '/path/to/kfpl', 'lsp' } })
--
-- Every buffer of filetype `kfp` (see ftdetect/kfp.vim) is attached to one
-- server per project folder. Neovim 0.8+ has vim.lsp.start, which does
-- that bookkeeping; 0.7 (Debian 12's) gets the same with start_client and
-- buf_attach_client.
local M = {}

local clients = {} -- root folder -> client id, for Neovim 0.7

--- Attaches buffer `bufnr` to kfpl's server.
function M.start(bufnr, cmd)
  local path = vim.api.nvim_buf_get_name(bufnr)
  local root = vim.fn.fnamemodify(path, ':p:h')
  local config = { name = 'kfpl', cmd = cmd, root_dir = root }
  if vim.lsp.start then
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local id = clients[root]
  if not id or vim.lsp.client_is_stopped(id) then
    id = vim.lsp.start_client(config)
    clients[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- Starts kfpl's server for every `kfp` buffer; `opts.cmd` is the command
--- (default `{ 'kfpl', 'lsp' }`).
function M.setup(opts)
  opts = opts or {}
  local cmd = opts.cmd or { 'kfpl', 'lsp' }
  vim.api.nvim_create_autocmd('FileType', {
    pattern = 'kfp',
    callback = function(args)
      M.start(args.buf, cmd)
    end,
  })
end

return M
