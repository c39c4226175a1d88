#!/bin/sh
# embed.sh OUT SYMBOL FILE: writes a C file defining `const char SYMBOL[]`
# with FILE's text, so data the binary needs ships inside it.
set -eu
out=$1 sym=$2 in=$3
{
	printf '/* generated from %s by tools/embed.sh */\n' "$in"
	printf 'const char %s[] =\n' "$sym"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$/\\n"/' "$in"
	printf ';\n'
} > "$out.tmp"
mv "$out.tmp" "$out"
