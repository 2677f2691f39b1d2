#!/usr/bin/env bash
# The benchmark behind BENCHMARKS.md. For each size (default 1,000, 10,000
# and 50,000 files) it generates a synthetic monorepo (examples/gentree.rs,
# seeded), then times in release mode, with hyperfine:
#   aiguard audit               (every check, default threads)
#   aiguard audit --threads 1   (for the parallel speed-up)
#   rg with aiguard's key regexes (the floor: read every file, run the regexes)
#   semgrep with bench/semgrep.yml (when semgrep is installed)
# plus the peak memory of one run of each (/usr/bin/time), and which of the
# planted findings each tool reported. Results: $OUT/results.md (the table
# pasted into BENCHMARKS.md) and the raw hyperfine JSON beside it.
#
#   bench/run.sh [SIZE...]
#   RUNS=10 SEMGREP_RUNS=3 OUT=/tmp/aiguard-bench SEMGREP=/path/to/semgrep bench/run.sh
#
# Needs hyperfine, ripgrep, python3 and GNU time (/usr/bin/time);
# semgrep is optional (python3 -m venv v && v/bin/pip install semgrep).
set -euo pipefail
# Cold runs: the facts cache off (src/cache.rs), as on a fresh CI machine.
export AIGUARD_NO_CACHE=1
cd "$(dirname "$0")/.."
repo=$PWD
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 50000)
out=${OUT:-/tmp/aiguard-bench}
runs=${RUNS:-10}
semgrep_runs=${SEMGREP_RUNS:-3}
semgrep=${SEMGREP:-$(command -v semgrep || true)}
for tool in hyperfine rg python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh needs $tool" >&2; exit 1; }
done
# semgrep must not try the network (its version check waits ~90 s offline).
export SEMGREP_ENABLE_VERSION_CHECK=0 SEMGREP_SEND_METRICS=off

cargo build --release --locked --quiet --bin aiguard --example gentree
aiguard=$repo/target/release/aiguard
bench/semgrep-rules.py --check
mkdir -p "$out"
# rg takes aiguard's key regexes as they are, without the named groups.
python3 - rules/keys.toml > "$out/patterns.txt" <<'PY'
import sys, tomllib
for rule in tomllib.load(open(sys.argv[1], "rb"))["rule"]:
    print(rule["regex"].replace("(?P<secret>", "("))
PY

{
  echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/Mem:/{print $2}') GB RAM, $(uname -sr)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "aiguard $(git -C "$repo" rev-parse --short HEAD), $(rustc --version), $(rg --version | sed -n 1p), $(hyperfine --version)${semgrep:+, semgrep $("$semgrep" --version 2>/dev/null)}"
} > "$out/machine.txt"

for n in "${sizes[@]}"; do
  tree=$out/tree-$n
  ./target/release/examples/gentree "$tree" "$n"
  git -C "$tree" init -q
  # What a scanner that honours .gitignore reads: rg's own file list.
  (cd "$tree" && rg --files --hidden -0 | xargs -0 stat -c %s | awk '{n++; b+=$1} END {print n, b}') > "$out/$n-size.txt"

  cmd_aiguard="$aiguard audit $tree --format json --output $out/$n-aiguard.json"
  cmd_aiguard1="$aiguard audit $tree --format json --output /dev/null --threads 1"
  cmd_rg="rg --hidden --files-with-matches -f $out/patterns.txt $tree"
  cmd_semgrep="$semgrep scan --metrics=off --disable-version-check --quiet --jobs $(nproc) --config $repo/bench/semgrep.yml --json --output $out/$n-semgrep.json $tree"

  hyperfine -N -i --warmup 2 --runs "$runs" --export-json "$out/$n-hyperfine.json" \
    -n aiguard "$cmd_aiguard" -n "aiguard --threads 1" "$cmd_aiguard1" -n rg "$cmd_rg"
  $cmd_rg > "$out/$n-rg.txt" || true
  if [ -n "$semgrep" ]; then
    hyperfine -N -i --runs "$semgrep_runs" --export-json "$out/$n-hyperfine-semgrep.json" \
      -n semgrep "$cmd_semgrep"
  fi
  # Peak memory (maximum resident set, KiB) of one run each.
  for name in aiguard rg semgrep; do
    var=cmd_$name
    [ "$name" != semgrep ] || [ -n "$semgrep" ] || continue
    /usr/bin/time -f %M -o "$out/$n-$name.rss" ${!var} > /dev/null 2>&1 || true
  done
done
python3 bench/summarize.py "$out" "${sizes[@]}" | tee "$out/results.md"
