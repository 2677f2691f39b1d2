#!/usr/bin/env python3
"""Summarise fuzz/logs/TARGET.log (libFuzzer's output from fuzz/run.sh):
coverage (`cov`: edges, `ft`: features) and corpus size at given minutes,
when coverage last grew, executions, peak RSS, and crashes. libFuzzer's
`exec/s` is the average since start, so a line's time is `#N / exec/s`.

  fuzz/summarize.py [--logs DIR] [TARGET...]   # default: every log in fuzz/logs
"""
import pathlib
import re
import sys

args = sys.argv[1:]
logs = pathlib.Path(__file__).resolve().parent / "logs"
if args[:1] == ["--logs"]:
    logs, args = pathlib.Path(args[1]), args[2:]
targets = args or sorted(p.stem for p in logs.glob("*.log"))
line_re = re.compile(
    r"^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)/\S+.*?exec/s: (\d+) rss: (\d+)Mb"
)
marks = [1, 2, 5, 10, 20, 30, 60]
print("| target | run | execs | cov / ft after 1, 2, 5, 10, 20… min | edges last grew at | corpus | peak RSS | crashes |")
print("|---|---:|---:|---|---:|---:|---:|---:|")
for t in targets:
    text = (logs / f"{t}.log").read_text(errors="replace")
    points = []  # (seconds, cov, ft, corpus, rss)
    for line in text.splitlines():
        m = line_re.match(line)
        if m and int(m.group(6)) > 0:
            n, kind, cov, ft, corp, eps, rss = m.groups()
            points.append((int(n) / int(eps), int(cov), int(ft), int(corp), int(rss), int(n)))
    if not points:
        print(f"| {t} | – | – | no progress lines | – | – | – | – |")
        continue
    end = points[-1][0]
    at = []
    for mark in marks:
        if mark * 60 > end * 1.05:
            break
        before = [p for p in points if p[0] <= mark * 60]
        if before:
            at.append(f"{before[-1][1]:,} / {before[-1][2]:,}")
    first_at_final_cov = next(p[0] for p in points if p[1] == points[-1][1])
    # One artifact per finding (a crash prints several of these lines);
    # `slow-unit-` files are inputs over -report_slow_units, not failures.
    crashes = len(re.findall(r"Test unit written to \S*/(?:crash|timeout|oom|leak)-", text))
    print(
        f"| {t} | {end / 60:.0f} min | {points[-1][5]:,} | {' → '.join(at)} | "
        f"{first_at_final_cov / 60:.1f} min | {points[-1][3]:,} | {max(p[4] for p in points)} MB | {crashes} |"
    )
