#!/usr/bin/env python3
"""The ecosystem check (like ruff's): run two aiguard builds over real AI
applications and print the findings that appear or disappear, and the time
of each.

    scripts/ecosystem.py OLD_BINARY NEW_BINARY [--repos DIR] [--only NAME ...]

DIR (default: $AIGUARD_ECOSYSTEM or ../real) holds one checkout per entry of
scripts/ecosystem.txt, named owner__name, at the pinned commit (a checkout at
another commit is reported and still run). Nothing is downloaded: make the
checkouts with git beforehand. Checkouts stay outside this repository.
Exit 0 always: this is a report to read, not a test.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent


def repos():
    for line in (HERE / "ecosystem.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, commit, shape, files = line.split()[:4]
            yield name, commit, shape, int(files)


def run(binary, path):
    started = time.monotonic()
    # Cold runs: the facts cache off (older builds have none; times compare).
    proc = subprocess.run(
        [binary, "audit", str(path), "--format", "json", "--fail-on", "never"],
        capture_output=True,
        text=True,
        env={**os.environ, "AIGUARD_NO_CACHE": "1"},
    )
    elapsed = time.monotonic() - started
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return elapsed, None, proc.stderr.strip().splitlines()[-1:] or ["no output"]
    return elapsed, doc, []


def keyed(doc):
    out = Counter()
    for f in doc["findings"]:
        out[(f["check"], f["rule"], f["path"], f.get("line"), f["message"][:160])] += 1
    return out


def statuses(doc):
    return {c["check"]: c["status"] for c in doc["checklist"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--repos", default=os.environ.get("AIGUARD_ECOSYSTEM", str(HERE.parent.parent / "real")))
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--max-lines", type=int, default=15, help="findings shown per repository and side")
    args = ap.parse_args()
    base = Path(args.repos)
    totals = [0.0, 0.0]
    changed = 0
    print(f"| repository | shape | files | old s | new s | old findings | new findings | + | - | status changes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    details = []
    for name, commit, shape, files in repos():
        if args.only and name not in args.only and name.split("/")[1] not in args.only:
            continue
        path = base / name.replace("/", "__")
        if not path.is_dir():
            print(f"| {name} | {shape} | {files} | missing checkout at {path} | | | | | | |")
            continue
        head = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        note = "" if head == commit else f" (at {head[:12]}, pinned {commit[:12]})"
        t_old, old, e_old = run(args.old, path)
        t_new, new, e_new = run(args.new, path)
        totals[0] += t_old
        totals[1] += t_new
        if old is None or new is None:
            print(f"| {name}{note} | {shape} | {files} | {t_old:.2f} | {t_new:.2f} | {e_old} | {e_new} | | | |")
            continue
        a, b = keyed(old), keyed(new)
        added, removed = b - a, a - b
        so, sn = statuses(old), statuses(new)
        moves = ", ".join(f"{k}: {so.get(k)}→{sn.get(k)}" for k in sn if so.get(k) != sn.get(k))
        changed += bool(added or removed or moves)
        print(
            f"| {name}{note} | {shape} | {files} | {t_old:.2f} | {t_new:.2f} | {sum(a.values())} | "
            f"{sum(b.values())} | {sum(added.values())} | {sum(removed.values())} | {moves} |"
        )
        lines = []
        for sign, group in (("+", added), ("-", removed)):
            for (check, rule, p, line, message), _ in sorted(group.items(), key=lambda kv: (kv[0][2], kv[0][3] or 0))[: args.max_lines]:
                lines.append(f"  {sign} {rule} {p}:{line} {message}")
            if len(group) > args.max_lines:
                lines.append(f"  {sign} … {len(group) - args.max_lines} more")
        if lines:
            details.append((name, lines))
    print(f"\ntotal time: old {totals[0]:.1f} s, new {totals[1]:.1f} s; {changed} repositories changed")
    for name, lines in details:
        print(f"\n{name}")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
