" .kfp files are kfpl pipelines.
autocmd BufRead,BufNewFile *.kfp setfiletype kfp
