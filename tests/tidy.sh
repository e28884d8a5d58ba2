#!/usr/bin/env bash
# tidy.sh: the mechanical style checks of STYLE.md 11 (after TigerBeetle's
# tidy.zig), for the things a compiler and clang-format do not catch.
#
#   tests/tidy.sh            check every .c and .h under src raft client tests bench
#   tests/tidy.sh FILE...    check only these files
#
# It rejects:
#   - lines over 100 columns (tabs count to the next multiple of 8, UTF-8 as
#     one column per character);
#   - banned calls: strcpy, strcat, sprintf, strtok, atoi, rand (unbounded or
#     not thread-safe or not reproducible; use the bounded and seeded forms);
#   - clock reads (time, clock, clock_gettime, gettimeofday, uv_now, uv_hrtime)
#     in the deterministic state machine: src/inv*, src/store.*, src/codec*
#     (STYLE.md 1.2: time comes in as an argument);
#   - // comments (STYLE.md 8.3: /* */ only);
#   - a TODO without an issue number: write TODO(#N) or name "issue N".
# Calls and // are looked for in code only: comments, strings and character
# literals are blanked first, so prose such as "the leader time (ms)" passes.
# Each offence prints as `file:line: why`; the exit status is 1 if any.
set -euo pipefail

files=()
if [ "$#" -gt 0 ]; then
    files=("$@")
else
    cd "$(dirname "${BASH_SOURCE[0]}")/.."
    while IFS= read -r f; do
        files+=("$f")
    done < <(find src raft client tests bench -type f \( -name '*.c' -o -name '*.h' \) \
        2>/dev/null | LC_ALL=C sort)
fi
if [ "${#files[@]}" -eq 0 ]; then
    echo "tidy: no C files found" >&2
    exit 0
fi

# LC_ALL=C: awk works on bytes, the same under mawk and gawk.
LC_ALL=C awk '
function blank(n,    s) {
    s = ""
    while (n-- > 0) {
        s = s " "
    }
    return s
}

# Columns of a raw line: tabs to the next multiple of 8, and UTF-8
# continuation bytes (0x80-0xbf) take no column.
function columns(line,    i, c, col, rest) {
    rest = line
    gsub(/[\200-\277]/, "", rest)
    col = 0
    for (i = 1; i <= length(rest); i++) {
        c = substr(rest, i, 1)
        if (c == "\t") {
            col = col + 8 - col % 8
        } else {
            col++
        }
    }
    return col
}

# The code of a line with comments, strings and character literals blanked.
# Sets line_comment when the line has a // comment outside them.
function code_of(line,    i, n, c, c2, out) {
    out = ""
    line_comment = 0
    in_str = 0
    n = length(line)
    i = 1
    while (i <= n) {
        c = substr(line, i, 1)
        c2 = substr(line, i, 2)
        if (in_block) {
            if (c2 == "*/") {
                in_block = 0
                out = out "  "
                i += 2
            } else {
                out = out " "
                i++
            }
        } else if (in_str) {
            if (c == "\\") {
                out = out "  "
                i += 2
            } else if (c == quote) {
                in_str = 0
                out = out c
                i++
            } else {
                out = out " "
                i++
            }
        } else if (c2 == "/*") {
            in_block = 1
            out = out "  "
            i += 2
        } else if (c2 == "//") {
            line_comment = 1
            out = out blank(n - i + 1)
            i = n + 1
        } else if (c == "\"" || c == "\047") {
            in_str = 1
            quote = c
            out = out c
            i++
        } else {
            out = out c
            i++
        }
    }
    return out
}

function offence(why) {
    printf "%s:%d: %s\n", FILENAME, FNR, why
    offences++
    bad[FILENAME] = 1
}

BEGIN {
    nbanned = split("strcpy strcat sprintf strtok atoi rand", banned, " ")
    nclock = split("time clock clock_gettime gettimeofday uv_now uv_hrtime", clocks, " ")
    offences = 0
}

FNR == 1 {
    in_block = 0
    nfiles++
    deterministic = (FILENAME ~ /(^|\/)src\/(inv[^\/]*|store|codec[^\/]*)\.[ch]$/)
}

{
    line = $0
    sub(/\r$/, "", line)
    cols = columns(line)
    if (cols > 100) {
        offence("line is " cols " columns (max 100)")
    }
    code = " " code_of(line)
    for (k = 1; k <= nbanned; k++) {
        if (code ~ ("[^A-Za-z0-9_.>]" banned[k] "[ \t]*\\(")) {
            offence("banned call " banned[k] "() (STYLE.md 11)")
        }
    }
    if (deterministic) {
        for (k = 1; k <= nclock; k++) {
            if (code ~ ("[^A-Za-z0-9_.>]" clocks[k] "[ \t]*\\(")) {
                offence("clock read " clocks[k] "() in the state machine (STYLE.md 1.2)")
            }
        }
    }
    if (line_comment) {
        offence("// comment: use /* */ (STYLE.md 8.3)")
    }
    if (line ~ /TODO/ && line !~ /TODO\(#[0-9]+\)/ && line !~ /[Ii]ssue #?[0-9]+/) {
        offence("TODO without an issue number: write TODO(#N) (STYLE.md 8.3)")
    }
}

END {
    nbad = 0
    for (f in bad) {
        nbad++
    }
    if (offences > 0) {
        printf "tidy: %d offence(s) in %d of %d file(s)\n", offences, nbad, nfiles
        exit 1
    }
    printf "tidy: %d file(s) clean\n", nfiles
}
' "${files[@]}"
