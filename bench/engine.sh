#!/usr/bin/env bash
# Engine v2's benchmark: aiguard against ripgrep, side by side in one
# hyperfine run, on trees whose files are application code that import
# each other (examples/genapp.rs: the slice of files worth parsing is large)
# and on real repositories (the checkouts of scripts/ecosystem.txt). For
# each: median wall time of `aiguard audit` (every check) and of `rg` with
# aiguard's key regexes, the ratio, aiguard's peak memory, and its --stats
# line (files in the slice, bytes parsed, time per phase). aiguard runs
# cold (AIGUARD_NO_CACHE=1), as on a fresh CI machine; "warm" is the same
# audit again with the facts cache of a first run (src/cache.rs).
#
#   bench/engine.sh [GENAPP_SIZE...] [-- REPO_DIR...]
#   RUNS=5 OUT=/tmp/aiguard-engine bench/engine.sh 10000 50000 -- ../real/onyx-dot-app__onyx
#
# Needs hyperfine, ripgrep, python3 and GNU time (/usr/bin/time).
set -euo pipefail
export AIGUARD_NO_CACHE=1
cd "$(dirname "$0")/.."
repo=$PWD
out=${OUT:-/tmp/aiguard-engine}
runs=${RUNS:-5}
sizes=()
dirs=()
while [ $# -gt 0 ]; do
  case $1 in
    --) shift; dirs=("$@"); break ;;
    *) sizes+=("$1"); shift ;;
  esac
done
[ ${#sizes[@]} -gt 0 ] || [ ${#dirs[@]} -gt 0 ] || sizes=(10000 50000)
for tool in hyperfine rg python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench/engine.sh needs $tool" >&2; exit 1; }
done
cargo build --release --locked --quiet --bin aiguard --example genapp
aiguard=$repo/target/release/aiguard
mkdir -p "$out"
python3 - rules/keys.toml > "$out/patterns.txt" <<'PY'
import sys, tomllib
for rule in tomllib.load(open(sys.argv[1], "rb"))["rule"]:
    print(rule["regex"].replace("(?P<secret>", "("))
PY
targets=()
for n in "${sizes[@]}"; do
  ./target/release/examples/genapp "$out/genapp-$n" "$n"
  git -C "$out/genapp-$n" init -q
  targets+=("$out/genapp-$n")
done
targets+=("${dirs[@]}")
{
  echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load at start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "aiguard $(git -C "$repo" rev-parse --short HEAD), $(rg --version | sed -n 1p), $(hyperfine --version)"
  echo
  echo "| tree | files | MB | aiguard (median) | rg (median) | ratio | aiguard peak RSS | slice / parsed | phases (walk+scan, slice, parse, project) | warm (cache) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} > "$out/results.md"
for t in "${targets[@]}"; do
  name=$(basename "$t")
  json=$out/$name-hyperfine.json
  rm -rf "$out/cache"
  warm="env AIGUARD_NO_CACHE=0 AIGUARD_CACHE_DIR=$out/cache $aiguard audit $t --format json --output /dev/null"
  hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$json" \
    -n aiguard "$aiguard audit $t --format json --output /dev/null" \
    -n rg "rg --hidden --glob !.git --files-with-matches -f $out/patterns.txt $t" \
    -n warm "$warm" >/dev/null
  /usr/bin/time -f %M -o "$out/$name.rss" "$aiguard" audit "$t" --format json --output /dev/null >/dev/null 2>&1 || true
  "$aiguard" audit "$t" --stats --format json --output /dev/null 2> "$out/$name.stats" >/dev/null || true
  size=$(cd "$t" && rg --files --hidden --glob '!.git' -0 | xargs -0 stat -c %s | awk '{n++; b+=$1} END {printf "%d %.1f", n, b/1e6}')
  python3 - "$json" "$out/$name.rss" "$out/$name.stats" "$name" $size >> "$out/results.md" <<'PY'
import json, re, sys
runs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
a, g, w = runs["aiguard"]["median"], runs["rg"]["median"], runs["warm"]["median"]
rss = int(open(sys.argv[2]).read().split()[-1]) / 1024
stats = open(sys.argv[3]).read()
sl = re.search(r"slice (\d+) files, (\d+) parsed \(([^)]*)\)", stats)
ph = re.search(r"walk\+scan (\d+) ms, slice (\d+) ms, parse (\d+) ms, project (\d+) ms", stats)
print(f"| {sys.argv[4]} | {sys.argv[5]} | {sys.argv[6]} | {a*1000:.0f} ms | {g*1000:.0f} ms | {a/g:.1f}× | {rss:.0f} MB | "
      f"{sl.group(1)} / {sl.group(3)} | {', '.join(ph.groups())} ms | {w*1000:.0f} ms |")
PY
done
cat "$out/results.md"
