# embed-completions.cmake - completions/squad.{bash,zsh,fish} as C arrays.
#
#   cmake -DSRC=<source folder> -DOUT=<file.c> -P embed-completions.cmake
#
# Run at build time (see CMakeLists.txt), so a change to a script
# rebuilds squad. Bytes rather than a string literal, so that no
# character of a script needs escaping; each array ends with a NUL.
set(text "/* Written by cmake/embed-completions.cmake from completions/: do not edit. */\n")
string(REPEAT "0x[0-9a-f][0-9a-f]," 12 row)
foreach(shell bash zsh fish)
  file(READ "${SRC}/completions/squad.${shell}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REGEX REPLACE "(${row})" "\\1\n\t" hex "${hex}")
  string(APPEND text "\nextern const char completion_${shell}[];\n"
                     "const char completion_${shell}[] = {\n\t${hex}0x00\n};\n")
endforeach()
file(WRITE "${OUT}" "${text}")
