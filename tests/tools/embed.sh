#!/bin/sh
# Usage: embed.sh SYMBOL FILE > out.c
# Emits FILE as a NUL-terminated byte array, so the default config exists in exactly one place.
set -eu
sym=$1 file=$2
printf '/* generated from %s by tests/tools/embed.sh; do not edit */\n' "$file"
printf '#include <stddef.h>\n'
printf 'extern const char %s[];\nextern const size_t %s_len;\n' "$sym" "$sym"
printf 'const char %s[] = {\n' "$sym"
od -An -v -tx1 "$file" | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
printf '0x00 };\nconst size_t %s_len = sizeof(%s) - 1;\n' "$sym" "$sym"
