#!/usr/bin/env python3
"""Seed corpora for the fuzz targets from the fixture projects.

fuzz/seed.py  ->  fuzz/corpus/{audit_files,per_file,fix_plan,config,baseline}/*
Each fixture becomes one `audit_files` input and each of its files a
`per_file` input (its files mapped onto the
names in fuzz_targets/common.rs, same extension or name), and one
`fix_plan` input (its files mapped onto FIX_NAMES the same way: the
fix-* fixtures and every other project `aiguard fix` may edit); `{{fake:ID}}`
placeholders become key-shaped random strings. Configs come from the
fixtures' aiguard.toml files and the README examples' shapes.
"""
import os, random, re, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
common = (root / "fuzz/fuzz_targets/common.rs").read_text()
def name_list(const):
    return re.findall(r'^    "([^"]+)",$', common.split(f"pub const {const}")[1].split("];")[0], re.M)

names = name_list("NAMES")
fix_names = name_list("FIX_NAMES")
rng = random.Random(10)
alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

def fake(m):
    return "sk-proj-" + "".join(rng.choice(alnum) for _ in range(74))

def pick(rel, names=names):
    rel = rel.replace("dot.", ".")
    if rel in names:
        return names.index(rel)
    base = rel.split("/")[-1]
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
fix = root / "fuzz/corpus/fix_plan"
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
    fix_parts = []
    for path in sorted(fixture.rglob("*")):
        rel = str(path.relative_to(fixture))
        if not path.is_file() or rel in ("fixture.toml", "SCENARIO.md"):
            continue
        i = pick(rel, fix_names)
        if i is not None:
            text = re.sub(rb"\{\{fake:[a-z0-9-]+\}\}", lambda m: fake(m).encode(), path.read_bytes())
            fix_parts.append(bytes([i]) + text[:16384])
    if fix_parts:
        fix.mkdir(parents=True, exist_ok=True)
        (fix / fixture.name).write_bytes(b"\n//--\n".join(fix_parts[:8]))

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
      f"{len(list(fix.iterdir()))} fix_plan, "
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

