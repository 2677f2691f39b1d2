#!/usr/bin/env bash
# Time `aiguard audit` against ripgrep running aiguard's own key patterns
# over the same generated tree (the floor: read every file once, run the
# regexes). Release mode; hyperfine if installed, else /usr/bin/time.
#   bench/keys-vs-rg.sh [FILES=20000] [TREE=/tmp/aiguard-bench-FILES]
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-20000}
tree=${2:-/tmp/aiguard-bench-$files}
command -v rg >/dev/null || { echo "needs ripgrep (apt-get install ripgrep)" >&2; exit 1; }
cargo build --release --quiet --bin aiguard --example gentree
./target/release/examples/gentree "$tree" "$files"
(cd "$tree" && git init -q . 2>/dev/null || true)
# rg takes the patterns as one alternation: drop the named groups.
python3 - rules/keys.toml > /tmp/aiguard-bench-patterns.txt <<'PY'
import sys, tomllib
for rule in tomllib.load(open(sys.argv[1], "rb"))["rule"]:
    print(rule["regex"].replace("(?P<secret>", "("))
PY
aiguard="$PWD/target/release/aiguard audit $tree --format json --output /dev/null"
rg="rg --hidden -c -f /tmp/aiguard-bench-patterns.txt $tree"
echo "aiguard finds $(./target/release/aiguard audit "$tree" --format json --select keys-in-code 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))') keys; rg matches in $($rg | wc -l) files"
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 2 --runs 10 -i -N "$aiguard" "$rg"
else
  for i in 1 2 3; do /usr/bin/time -f "aiguard %e s" $aiguard || true; /usr/bin/time -f "rg %e s" $rg > /dev/null; done
fi
