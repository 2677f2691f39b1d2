#!/usr/bin/env python3
"""Seed corpora for the fuzz targets from the fixture projects.

fuzz/seed.py  ->  fuzz/corpus/{audit_files,per_file,config,baseline}/*
Each fixture becomes one `audit_files` input and each of its files a
`per_file` input (its files mapped onto the
names in fuzz_targets/common.rs, same extension or name); `{{fake:ID}}`
placeholders become key-shaped random strings. Configs come from the
fixtures' aiguard.toml files and the README examples' shapes.
"""
import os, random, re, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
common = (root / "fuzz/fuzz_targets/common.rs").read_text()
names = re.findall(r'^    "([^"]+)",$', common.split("pub const NAMES")[1].split("];")[0], re.M)
rng = random.Random(10)
alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

def fake(m):
    return "sk-proj-" + "".join(rng.choice(alnum) for _ in range(74))

def pick(rel):
    base = rel.split("/")[-1].replace("dot.", ".", 1)
    for i, n in enumerate(names):
        if n.split("/")[-1] == base:
            return i
    ext = os.path.splitext(base)[1]
    for i, n in enumerate(names):
        if ext and n.endswith(ext):
            return i
    return None

out = root / "fuzz/corpus/audit_files"
out.mkdir(parents=True, exist_ok=True)
single = root / "fuzz/corpus/per_file"
single.mkdir(parents=True, exist_ok=True)
for fixture in sorted((root / "fixtures").iterdir()):
    parts = []
    for path in sorted(fixture.rglob("*")):
        rel = str(path.relative_to(fixture))
        if not path.is_file() or rel in ("fixture.toml", "SCENARIO.md"):
            continue
        i = pick(rel)
        if i is None:
            continue
        text = re.sub(rb"\{\{fake:[a-z0-9-]+\}\}", lambda m: fake(m).encode(), path.read_bytes())
        parts.append(bytes([i]) + text[:16384])
        (single / f"{fixture.name}-{rel.replace('/', '_')}").write_bytes(parts[-1])
    if parts:
        (out / fixture.name).write_bytes(b"\n//--\n".join(parts[:8]))

cfg = root / "fuzz/corpus/config"
cfg.mkdir(parents=True, exist_ok=True)
for i, path in enumerate(sorted(root.rglob("aiguard.toml"))):
    if "target" in path.parts or "fuzz" in path.parts:
        continue
    (cfg / f"config{i}").write_bytes(path.read_bytes())
keys = (root / "rules/keys.toml").read_text().split("[[rule]]")
(cfg / "key-rules").write_bytes(
    b'key-rules = ["rules.toml"]\n\n//--\n' + ("[[rule]]" + keys[1]).encode())
print(f"{len(list(out.iterdir()))} audit_files, {len(list(single.iterdir()))} per_file, "
      f"{len(list(cfg.iterdir()))} config seeds")

# Baselines: the shapes `aiguard baseline` writes, and older/odd ones.
base = root / "fuzz/corpus/baseline"
base.mkdir(parents=True, exist_ok=True)
entry = '{"fingerprint": "%s:1", "check": "keys-in-code", "rule": "openai-project-key", "path": "app.py"}'
fp = "".join(rng.choice("0123456789abcdef") for _ in range(64))
(base / "written").write_text(
    '{\n  "version": 1,\n  "tool": {"name": "aiguard", "version": "0.1.0"},\n  "findings": [\n    %s\n  ]\n}\n' % (entry % fp))
(base / "empty").write_text('{"version": 1, "findings": []}\n')
(base / "bare").write_text('{"version": 1, "findings": [{"fingerprint": "x"}]}\n')
(base / "newer").write_text('{"version": 2, "findings": []}\n')

