#!/usr/bin/env node
// Builds the npm platform package (@aiguard/cli-<platform>) from a release
// binary: `node npm/build-platform.js --binary target/release/aiguard
// [--target x86_64-unknown-linux-gnu] [--out npm/dist]`. Without --target it
// is the package for this machine. Prints the package folder; `npm pack` it.
// The version is Cargo.toml's. The release workflow and tests/packaging.rs
// run this same command.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

// Rust target triple -> npm platform key, with npm's os/cpu/libc fields.
// Keep in step with PACKAGES in aiguard/bin/aiguard.js and the
// optionalDependencies of aiguard/package.json.
const TARGETS = {
  "x86_64-unknown-linux-gnu": { key: "linux-x64-gnu", os: "linux", cpu: "x64", libc: "glibc" },
  "aarch64-unknown-linux-gnu": { key: "linux-arm64-gnu", os: "linux", cpu: "arm64", libc: "glibc" },
  "x86_64-unknown-linux-musl": { key: "linux-x64-musl", os: "linux", cpu: "x64", libc: "musl" },
  "x86_64-apple-darwin": { key: "darwin-x64", os: "darwin", cpu: "x64" },
  "aarch64-apple-darwin": { key: "darwin-arm64", os: "darwin", cpu: "arm64" },
  "x86_64-pc-windows-msvc": { key: "win32-x64-msvc", os: "win32", cpu: "x64" },
};

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i];
    if (!["--binary", "--target", "--out"].includes(name) || argv[i + 1] === undefined) {
      die(`usage: build-platform.js --binary PATH [--target TRIPLE] [--out DIR] (got ${name})`);
    }
    out[name.slice(2)] = argv[i + 1];
  }
  if (!out.binary) die("--binary PATH is required (the release binary, e.g. target/release/aiguard)");
  return out;
}

function die(message) {
  process.stderr.write(`build-platform.js: ${message}\n`);
  process.exit(2);
}

function hostTarget() {
  const { platform, arch } = process;
  const cpu = { x64: "x86_64", arm64: "aarch64" }[arch];
  if (!cpu) die(`no release target for ${platform}-${arch}`);
  if (platform === "linux") {
    const musl = !process.report.getReport().header.glibcVersionRuntime;
    return `${cpu}-unknown-linux-${musl ? "musl" : "gnu"}`;
  }
  if (platform === "darwin") return `${cpu}-apple-darwin`;
  if (platform === "win32") return `${cpu}-pc-windows-msvc`;
  die(`no release target for ${platform}-${arch}`);
}

function cargoVersion(root) {
  const toml = fs.readFileSync(path.join(root, "Cargo.toml"), "utf8");
  const pkg = toml.split(/^\[/m).find((s) => s.startsWith("package]"));
  const m = pkg && pkg.match(/^version\s*=\s*"([^"]+)"/m);
  if (!m) die("no [package] version in Cargo.toml");
  return m[1];
}

const root = path.resolve(__dirname, "..");
const opts = args();
const target = opts.target || hostTarget();
const spec = TARGETS[target];
if (!spec) die(`unknown target ${target} (one of: ${Object.keys(TARGETS).join(", ")})`);
const version = cargoVersion(root);
const name = `@aiguard/cli-${spec.key}`;
const dir = path.resolve(opts.out || path.join(root, "npm", "dist"), `cli-${spec.key}`);
const exe = spec.os === "win32" ? "aiguard.exe" : "aiguard";

fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
fs.copyFileSync(opts.binary, path.join(dir, "bin", exe));
fs.chmodSync(path.join(dir, "bin", exe), 0o755);
const manifest = {
  name,
  version,
  description: `The aiguard binary for ${spec.key} (installed by the aiguard package)`,
  homepage: "https://github.com/aiguard/aiguard#readme",
  repository: { type: "git", url: "git+https://github.com/aiguard/aiguard.git" },
  license: "MIT",
  os: [spec.os],
  cpu: [spec.cpu],
  ...(spec.libc ? { libc: [spec.libc] } : {}),
  files: [`bin/${exe}`],
  preferUnplugged: true,
};
fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
fs.writeFileSync(
  path.join(dir, "README.md"),
  `# ${name}\n\nThe prebuilt \`aiguard\` binary for ${spec.key} (Rust target ${target}).\n` +
    "Install the `aiguard` package instead: it picks this one for your platform.\n",
);
process.stdout.write(`${dir}\n`);
