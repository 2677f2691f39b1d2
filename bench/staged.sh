#!/usr/bin/env bash
# Time `aiguard audit --staged` (the pre-commit hook) on a generated
# repository of FILES files with 3 files staged: two edited source files and
# a new one, warm (with the context cache of earlier runs) and cold. Release
# mode; needs hyperfine. The full audit of the same tree is timed beside it
# for scale.
#   bench/staged.sh [FILES=20000] [TREE=/tmp/aiguard-staged-FILES]
set -euo pipefail
# Cold runs: the facts cache off (src/cache.rs), as on a fresh CI machine.
export AIGUARD_NO_CACHE=1
cd "$(dirname "$0")/.."
files=${1:-20000}
tree=${2:-/tmp/aiguard-staged-$files}
command -v hyperfine >/dev/null || { echo "needs hyperfine" >&2; exit 1; }
cargo build --release --quiet --bin aiguard --example gentree
aiguard="$PWD/target/release/aiguard"
./target/release/examples/gentree "$tree" "$files" >/dev/null
cd "$tree"
git init -q -b main
git add -A
git -c user.name=bench -c user.email=bench@example.invalid -c commit.gpgsign=false \
  commit -q --no-verify -m "generated tree"
py=$(git ls-files '*.py' | sed -n 1p)
tsx=$(git ls-files '*.tsx' | sed -n 1p)
echo "x = 1" >> "$py"
echo "// edited" >> "$tsx"
mkdir -p apps/api/src/new
printf 'def handler(q):\n    return q\n' > apps/api/src/new/handler.py
git add "$py" "$tsx" apps/api/src/new/handler.py
echo "$(git ls-files | wc -l) files in the index, $(git diff --cached --name-only | wc -l) staged"
# Warm: the usual case, with .git/aiguard/staged-context from earlier runs.
hyperfine --warmup 3 --runs 20 -i -N \
  "$aiguard audit --staged --output /dev/null" \
  "$aiguard audit . --output /dev/null"
# Cold: the first staged audit in a repository (no context cache yet).
hyperfine --runs 10 -i -N --prepare "rm -rf .git/aiguard" \
  "$aiguard audit --staged --output /dev/null"
