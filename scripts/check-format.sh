#!/usr/bin/env bash
# Checks (or, with --fix, applies) the project's .clang-format on every C file git knows.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=(--dry-run -Werror)
[[ ${1:-} == --fix ]] && mode=(-i)
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.c' '*.h')
((${#files[@]})) || exit 0
clang-format "${mode[@]}" "${files[@]}"
