-- A minimal Neovim config with kfpl's support, to try it or test it:
--   nvim -u editors/nvim/init.lua examples/mnist.kfp
-- KFPL_LSP_CMD names the kfpl binary when it is not on PATH.
-- In your own config, add this folder to 'runtimepath' and call
-- require('kfpl').setup() (see docs/editors.md).
local here = debug.getinfo(1, 'S').source:sub(2):match('(.*)/') or '.'
vim.opt.runtimepath:prepend(here)
vim.cmd('filetype on')
require('kfpl').setup({ cmd = { os.getenv('KFPL_LSP_CMD') or 'kfpl', 'lsp' } })
