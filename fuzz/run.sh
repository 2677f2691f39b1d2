#!/usr/bin/env bash
# Run the fuzz targets one after another, each for SECONDS (default 600),
# niced, on the seed corpus (fuzz/seed.py) plus what earlier runs found.
#   fuzz/run.sh [SECONDS] [TARGET...]
#   PARALLEL=1 fuzz/run.sh 1800     # all of them at the same time instead
# Needs cargo-fuzz (`cargo install cargo-fuzz`). cargo-fuzz passes nightly
# flags (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 lets the stable toolchain
# accept them. Crashes land in fuzz/artifacts/TARGET/; copy each one to
# fuzz/regressions/TARGET/ once fixed (tests/fuzz_regressions.rs replays them).
# Each run's output: fuzz/logs/TARGET.log.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(per_file audit_files fix_plan config baseline imports)
export RUSTC_BOOTSTRAP=1
# A tmpfs for the scratch projects, when there is one.
[ -d /dev/shm ] && export AIGUARD_FUZZ_DIR=${AIGUARD_FUZZ_DIR:-/dev/shm}
python3 fuzz/seed.py
nice -n 19 cargo fuzz build
run_target() {
  local t=$1
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" "fuzz/regressions/$t" fuzz/logs
  # -detect_leaks=0: LeakSanitizer's scans took 70% of the time, and Rust
  # leaks only on purpose. -timeout: a hang is any input over 10 s.
  nice -n 19 cargo fuzz run "$t" "fuzz/corpus/$t" "fuzz/regressions/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -detect_leaks=0 -print_final_stats=1 2>&1 | tee "fuzz/logs/$t.log" | grep -E "^#[0-9]+[[:space:]]+(pulse|INITED|DONE)|ERROR|SUMMARY|stat::" || true
}
if [ "${PARALLEL:-0}" = 1 ]; then
  for t in "${targets[@]}"; do run_target "$t" > /dev/null & done
  wait
  python3 fuzz/summarize.py "${targets[@]}"
else
  for t in "${targets[@]}"; do run_target "$t"; done
fi
