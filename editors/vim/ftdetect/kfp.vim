" kfpl pipeline files
autocmd BufRead,BufNewFile *.kfp setfiletype kfp
