#!/usr/bin/env bash
# The parse pass's ceiling: how long tree-sitter-python (what aiguard
# uses) and Ruff's hand-written parser take over the Python files of
# aiguard's slice of a repository, one thread (bench/parsers/).
#
#   bench/parsers.sh REPO_DIR [ROUNDS]
#   bench/parsers.sh ../real/onyx-dot-app__onyx
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: bench/parsers.sh REPO_DIR [ROUNDS]" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
target=$(cd "$1" && pwd)
cargo build --release --locked --quiet --bin aiguard --manifest-path "$here/Cargo.toml"
cargo build --release --quiet --manifest-path "$here/bench/parsers/Cargo.toml"
slice=$(mktemp)
trap 'rm -f "$slice" "$slice.abs"' EXIT
(cd "$target" && AIGUARD_NO_CACHE=1 AIGUARD_DEBUG_SLICE="$slice" \
  "$here/target/release/aiguard" audit . >/dev/null 2>&1 || true)
# Lines are "ROLES MODE PATH"; a path may hold spaces.
ROOT=$target awk '{ sub(/^[^ ]* [^ ]* /, ""); print ENVIRON["ROOT"] "/" $0 }' "$slice" > "$slice.abs"
"$here/bench/parsers/target/release/aiguard-parser-bench" "$slice.abs" "${2:-5}"
