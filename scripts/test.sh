#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs what the tests need, then runs them all:
# tsc --noEmit, unit and Pulumi mock tests, and the real-lab tests against real dockerd's.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
  bash scripts/install-deps.sh
else
  echo "[test] not root: skipping apt packages (real-lab tests need root: sudo bash scripts/test.sh)" >&2
fi
npm ci --no-audit --no-fund
# Consul for the real-lab KV tests, built once from the Go module proxy and cached outside the repo.
if [ "$(id -u)" = 0 ] || [ "${CI:-}" = "true" ]; then
  DNLAB_CONSUL="$(bash scripts/build-consul.sh | tail -n 1)"
  export DNLAB_CONSUL
  # Debian's dockerd 20.10.24 rebuilt with the consul cluster store it drops (avoid-consul.patch).
  DNLAB_DOCKERD="$(bash scripts/build-dockerd-consul.sh | tail -n 1)"
  export DNLAB_DOCKERD
  # Debian trixie's dockerd 26.1.5 for the Docker 26 netns hosts, fetched and unpacked (not installed).
  DNLAB_DOCKERD_26="$(bash scripts/fetch-docker26.sh | tail -n 1)"
  export DNLAB_DOCKERD_26
fi
# The real Pulumi engine (CLI + Node.js language host), built once from the Go module proxy and cached:
# tests/engine/ runs it over Pulumi.yaml, the stack files and docs/configuration.md's examples.
DNLAB_PULUMI_BIN="$(bash scripts/build-pulumi.sh | tail -n 1)"
export DNLAB_PULUMI_BIN
mkdir -p .lab
status=0
npm test -- --reporter=default --reporter=json --outputFile=.lab/vitest.json || status=$?
# One plain closing line, with the real-lab tests counted on their own.
if [ -s .lab/vitest.json ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(".lab/vitest.json", "utf8"));
    const all = r.testResults.flatMap((f) => f.assertionResults.map((a) => ({ file: f.name, status: a.status })));
    const real = all.filter((t) => t.file.includes("/tests/reallab/"));
    const n = (xs, s) => xs.filter((t) => t.status === s).length;
    console.log(`real-lab: ${n(real, "passed")} passed, ${n(real, "failed")} failed, ${n(real, "skipped") + n(real, "pending")} skipped`);
    console.log(`${n(all, "passed")} passed, ${n(all, "failed")} failed, ${n(all, "skipped") + n(all, "pending")} skipped`);
  '
fi
exit "$status"
