#!/usr/bin/env python3
"""The facts cache changes no answer: for each checkout of the ecosystem
list, audit and list the inventory cold (AIGUARD_NO_CACHE=1), then twice
with a fresh cache (fill, then warm), and compare the JSON (the report
without its duration). Prints the cold and warm times.

    scripts/cache_check.py BINARY [--repos DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def run(binary, args, env):
    started = time.monotonic()
    proc = subprocess.run([binary, *args], capture_output=True, text=True, env={**os.environ, **env})
    return proc.stdout, time.monotonic() - started


def report(text):
    doc = json.loads(text)
    doc["summary"].pop("duration_ms", None)
    return doc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--repos", default=os.environ.get("AIGUARD_ECOSYSTEM", "../real"))
    a = ap.parse_args()
    differ = 0
    with tempfile.TemporaryDirectory() as cache:
        cold_env = {"AIGUARD_NO_CACHE": "1"}
        warm_env = {"AIGUARD_NO_CACHE": "0", "AIGUARD_CACHE_DIR": cache}
        for name in sorted(os.listdir(a.repos)):
            path = os.path.join(a.repos, name)
            audit = ["audit", path, "--format", "json", "--fail-on", "never"]
            inventory = ["inventory", path, "--format", "json"]
            cold, cold_s = run(a.binary, audit, cold_env)
            run(a.binary, audit, warm_env)
            warm, warm_s = run(a.binary, audit, warm_env)
            same_report = report(cold) == report(warm)
            same_inventory = run(a.binary, inventory, cold_env)[0] == run(a.binary, inventory, warm_env)[0]
            differ += not (same_report and same_inventory)
            print(f"{name:40s} report {'same' if same_report else 'DIFFERS'}, "
                  f"inventory {'same' if same_inventory else 'DIFFERS'}, cold {cold_s:.2f} s, warm {warm_s:.2f} s")
    print(f"{differ} repositories differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
