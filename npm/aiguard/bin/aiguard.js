#!/usr/bin/env node
// The `aiguard` command of the npm package: runs the prebuilt binary of the
// @aiguard/cli-<platform> optional dependency npm installed for this machine.
// No postinstall script and no download: npm picks the platform package by
// its `os`, `cpu` and `libc` fields.
"use strict";

const { spawnSync } = require("node:child_process");
const path = require("node:path");

// One package per release target; keep in step with npm/build-platform.js.
const PACKAGES = {
  "linux-x64-gnu": "@aiguard/cli-linux-x64-gnu",
  "linux-arm64-gnu": "@aiguard/cli-linux-arm64-gnu",
  "linux-x64-musl": "@aiguard/cli-linux-x64-musl",
  "darwin-x64": "@aiguard/cli-darwin-x64",
  "darwin-arm64": "@aiguard/cli-darwin-arm64",
  "win32-x64-msvc": "@aiguard/cli-win32-x64-msvc",
};

function isMusl() {
  if (process.platform !== "linux") return false;
  try {
    // glibc's Node reports the runtime glibc version; musl's does not.
    const header = process.report.getReport().header;
    return !header.glibcVersionRuntime;
  } catch {
    return false;
  }
}

/** The platform keys to try, best first. */
function candidates() {
  const { platform, arch } = process;
  if (platform === "linux") {
    return isMusl() ? [`linux-${arch}-musl`, `linux-${arch}-gnu`] : [`linux-${arch}-gnu`, `linux-${arch}-musl`];
  }
  if (platform === "win32") return [`win32-${arch}-msvc`];
  return [`${platform}-${arch}`];
}

function findBinary() {
  const exe = process.platform === "win32" ? "aiguard.exe" : "aiguard";
  const wanted = candidates().filter((key) => PACKAGES[key]);
  for (const key of wanted) {
    try {
      const manifest = require.resolve(`${PACKAGES[key]}/package.json`);
      return path.join(path.dirname(manifest), "bin", exe);
    } catch {
      // not installed: try the next one
    }
  }
  const platform = `${process.platform}-${process.arch}`;
  if (wanted.length === 0) {
    fail(
      `aiguard has no prebuilt binary for ${platform}. ` +
        "Install it with `pip install aiguard` or `cargo install --git https://github.com/aiguard/aiguard aiguard`.",
    );
  }
  fail(
    `aiguard: the package ${PACKAGES[wanted[0]]} (the aiguard binary for ${platform}) is not installed. ` +
      "npm installs it as an optional dependency of aiguard: reinstall without --omit=optional or " +
      "--no-optional (e.g. `rm -rf node_modules package-lock.json && npm install`), " +
      `or add it yourself: npm install ${PACKAGES[wanted[0]]}`,
  );
}

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

const result = spawnSync(findBinary(), process.argv.slice(2), { stdio: "inherit" });
if (result.error) {
  fail(`aiguard: cannot run ${result.error.path || "the binary"}: ${result.error.message}`);
}
if (result.signal) {
  process.kill(process.pid, result.signal);
}
process.exit(result.status ?? 1);
