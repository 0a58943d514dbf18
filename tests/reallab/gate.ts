// The shared gate of every real-lab test: real namespaces and daemons need Linux, root and the
// packages of scripts/install-deps.sh. Outside CI a missing prerequisite skips the suite with one
// clear line; under CI=true it fails instead, so a broken CI machine can never pass by skipping.
import { existsSync } from "node:fs";
import { describe, it } from "vitest";
import { findBinary } from "./binaries.js";

export { findBinary };

export type GateResult = { ok: true } | { ok: false; reason: string };

/** What every netns lab needs; absolute paths are checked as given, names are looked up on PATH (+ sbin). */
export const REQUIRED_BINARIES = ["dockerd", "/usr/bin/docker", "etcd", "busybox", "nsenter", "unshare", "ip", "tcpdump"] as const;

export interface GateOptions {
  /** Further binaries a suite needs (e.g. a consul binary path, sshd). */
  binaries?: readonly string[];
}

export function realLabGate(opts: GateOptions = {}): GateResult {
  if (process.platform !== "linux") return { ok: false, reason: `needs Linux (network namespaces), this is ${process.platform}` };
  const uid = process.getuid?.();
  if (uid !== 0) return { ok: false, reason: `needs root (creates namespaces and runs dockerd), running as uid ${uid ?? "?"}` };
  const missing = [...REQUIRED_BINARIES, ...(opts.binaries ?? [])].filter((b) => findBinary(b) === undefined);
  if (missing.length > 0) return { ok: false, reason: `missing ${missing.join(", ")} (run scripts/install-deps.sh as root)` };
  // host-up.sh refuses to start then: every lab dockerd would adopt the system containerd.
  if (existsSync("/run/containerd/containerd.sock")) {
    return {
      ok: false,
      reason: "a system containerd listens on /run/containerd/containerd.sock (stop it: systemctl disable --now docker containerd)",
    };
  }
  return { ok: true };
}

export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env["CI"] ?? "").toLowerCase();
  return v !== "" && v !== "false" && v !== "0";
}

/**
 * describe() for a real-lab suite. Not ok + outside CI: describe.skip, with one line
 * `[real-lab] skipped: <reason>`. Not ok + CI: a single test that fails with the reason.
 */
export function describeRealLab(name: string, fn: () => void, opts: GateOptions = {}): void {
  const gate = realLabGate(opts);
  if (gate.ok) {
    describe(name, fn);
    return;
  }
  if (underCi()) {
    describe(name, () => {
      it("real-lab prerequisites", () => {
        throw new Error(`[real-lab] cannot run under CI: ${gate.reason}`);
      });
    });
    return;
  }
  console.log(`[real-lab] skipped: ${name}: ${gate.reason}`);
  describe.skip(name, fn);
}
