#!/usr/bin/env python3
"""Turn bench/run.sh's raw results into the Markdown tables of BENCHMARKS.md.
  bench/summarize.py OUT SIZE..."""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
sizes = sys.argv[2:]


def load_runs(n):
    runs = {}
    for name in (f"{n}-hyperfine.json", f"{n}-hyperfine-semgrep.json"):
        p = out / name
        if p.exists():
            for r in json.loads(p.read_text())["results"]:
                runs[r["command"]] = r
    return runs


def rss_mb(n, tool):
    p = out / f"{n}-{tool}.rss"
    if not p.exists():
        return None
    # GNU time may write "Command exited with non-zero status 1" first.
    return int(p.read_text().split()[-1]) / 1024


def found(n, tool, planted):
    """How many planted findings (files) the tool reported."""
    tree = out / f"tree-{n}"
    paths = set()
    try:
        if tool == "aiguard":
            paths = {f["path"] for f in json.loads((out / f"{n}-aiguard.json").read_text())["findings"]}
        elif tool == "rg":
            paths = {str(pathlib.Path(l).relative_to(tree)) for l in (out / f"{n}-rg.txt").read_text().split()}
        elif tool == "semgrep":
            data = json.loads((out / f"{n}-semgrep.json").read_text())
            paths = {str(pathlib.Path(r["path"]).relative_to(tree)) for r in data["results"]}
    except FileNotFoundError:
        return "–"
    if tool == "rg":  # rg has only the key patterns
        planted = [(p, k) for p, k in planted if k != "ai-endpoint"]
    hit = sum(1 for p, _ in planted if p in paths)
    extra = len(paths - {p for p, _ in planted})
    return f"{hit}/{len(planted)}" + (f" (+{extra} other files)" if extra else "")


def spread(r):
    return f" ± {r['stddev'] * 1000:,.0f} ms" if r["stddev"] else " (1 run)"


def ms(seconds):
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


print((out / "machine.txt").read_text().strip().replace("\n", "  \n"))
print()
print("| files | MB read | tool | median wall | CPU (user+sys) | peak memory | planted findings reported |")
print("|---:|---:|---|---:|---:|---:|---|")
summary = []
for n in sizes:
    files, size = (int(x) for x in (out / f"{n}-size.txt").read_text().split())
    planted = [tuple(l.split()) for l in (out / f"tree-{n}/PLANTED.txt").read_text().splitlines() if l]
    runs = load_runs(n)
    for name, r in runs.items():
        tool = name.split()[0]
        rss = rss_mb(n, tool) if name != "aiguard --threads 1" else None
        cpu = r["user"] + r["system"]
        print(f"| {files:,} | {size / 1e6:,.1f} | `{name}` | {ms(r['median'])}{spread(r)}"
              f" | {ms(cpu)} | {f'{rss:,.0f} MB' if rss else '–'} | {found(n, tool, planted) if name != 'aiguard --threads 1' else '–'} |")
    a = runs["aiguard"]["median"]
    row = {
        "files": files,
        "MB": size / 1e6,
        "aiguard / rg": a / runs["rg"]["median"],
        "speed-up over 1 thread": runs["aiguard --threads 1"]["median"] / a,
        "ms per MB": a * 1000 / (size / 1e6),
    }
    if "semgrep" in runs:
        row["semgrep / aiguard"] = runs["semgrep"]["median"] / a
    summary.append(row)
print()
print("| files | MB read | aiguard ÷ rg (target ≤ 1.5) | semgrep ÷ aiguard (target ≥ 30) | speed-up over `--threads 1` (target ≥ 1.7) | aiguard ms per MB read |")
print("|---:|---:|---:|---:|---:|---:|")
for r in summary:
    sg = f"{r['semgrep / aiguard']:,.0f}×" if "semgrep / aiguard" in r else "–"
    print(f"| {r['files']:,} | {r['MB']:,.1f} | {r['aiguard / rg']:.2f}× | {sg} | {r['speed-up over 1 thread']:.2f}× | {r['ms per MB']:.1f} |")
