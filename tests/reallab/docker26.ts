// Docker 26 for the real-lab suites: Debian trixie's dockerd 26.1.5, fetched into the cache by
// scripts/fetch-docker26.sh (reused when cached), unless scripts/test.sh already exported DNLAB_DOCKERD_26.
import { execFileSync } from "node:child_process";
import { REPO_ROOT } from "../../src/lab/run.js";

/** What the fetch needs besides the usual real-lab prerequisites (for the gate). */
export const DOCKER26_GATE = { binaries: ["apt-get", "dpkg-deb", "flock"] } as const;

/** The Docker 26 dockerd: $DNLAB_DOCKERD_26, or scripts/fetch-docker26.sh (~10 s the first time, 0.1 s cached). */
export function docker26Binary(): string {
  const given = process.env["DNLAB_DOCKERD_26"];
  if (given) return given;
  const t0 = Date.now();
  const out = execFileSync("bash", ["scripts/fetch-docker26.sh"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 10 * 60_000,
  });
  const path = out.trim().split("\n").pop() ?? "";
  console.log(`[real-lab] scripts/fetch-docker26.sh: ${path} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return path;
}
