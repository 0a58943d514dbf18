// The dind kind under the real engine: an outer engine of the tests' own (scripts/images/outer-up.sh: a
// dockerd with its own socket, data-root and network namespace) holding images built from Debian
// packages (scripts/images/build.sh), since no registry serves docker:*-dind, hashicorp/consul or
// busybox here. The stack reaches that engine as a user's stack reaches theirs: DOCKER_HOST. The pulumi
// CLI runs in the engine's network namespace (scripts/images/outer-exec.sh), where the dind hosts' APIs
// and Consul are published on 127.0.0.1, as they are on a laptop's own loopback.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import { REPO_ROOT } from "../../src/lab/run.js";
import type { ImagesInput, LabPlan } from "../../src/model/index.js";
import { type LabStackOptions, npmRunUnder } from "./harness.js";

const execFileAsync = promisify(execFile);

/** The images scripts/images/build.sh makes, as lab:images names them (busybox under its official tag). */
export const LOCAL_IMAGES = {
  dindKv: "dnlab-local/dind:20.10.24",
  dindSwarm: "dnlab-local/dind:26.1.5",
  kv: "dnlab-local/consul:1.16.3",
  workload: "busybox:1.36.1",
} as const satisfies ImagesInput;

/** The ZooKeeper image scripts/images/build.sh makes (Debian's ZooKeeper 3.8), for lab:images.kv of zookeeper labs. */
export const LOCAL_ZOOKEEPER = "dnlab-local/zookeeper:3.8.0";

/** Debian's docker client (another, older one may come first on PATH). */
const DOCKER = existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker";
/** Runs a command where the outer engine's published ports are, with DOCKER_HOST set to it. */
export const OUTER_EXEC = join(REPO_ROOT, "scripts/images/outer-exec.sh");

/** What is on an engine: every container, network, volume and image (repo:tag or id). */
export interface EngineContents {
  containers: string[];
  networks: string[];
  volumes: string[];
  images: string[];
}

function lines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .sort();
}

export function engineContents(dockerHost: string): EngineContents {
  const d = (...args: string[]): string[] =>
    lines(execFileSync(DOCKER, ["-H", dockerHost, ...args], { encoding: "utf8", timeout: 60_000 }));
  return {
    containers: d("ps", "-a", "--format", "{{.Names}}"),
    networks: d("network", "ls", "--format", "{{.Name}}"),
    volumes: d("volume", "ls", "-q"),
    images: d("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"),
  };
}

/** What `after` has that `before` had not, one line per thing ("" when nothing). */
export function engineDiff(before: EngineContents, after: EngineContents): string[] {
  const out: string[] = [];
  for (const k of ["containers", "networks", "volumes", "images"] as const) {
    const added = after[k].filter((x) => !before[k].includes(x));
    const removed = before[k].filter((x) => !after[k].includes(x));
    if (added.length > 0) out.push(`${k} left on the engine: ${added.join(", ")}`);
    if (removed.length > 0) out.push(`${k} removed from the engine: ${removed.join(", ")}`);
  }
  return out;
}

export interface OuterEngine {
  /** unix:///run/dnlab-outer/docker.sock (what the stack gets as DOCKER_HOST). */
  dockerHost(): string;
  /** What was on it before the lab: destroy must leave exactly this (the images kept, nothing else). */
  before(): EngineContents;
  /** The harness options of a dind stack on this engine. */
  stackOptions(): LabStackOptions;
  /** `npm run <script> -- args` where the lab's ports are, as README shows it. */
  npmRun(script: string, ...args: string[]): Promise<{ code: number; out: string }>;
}

/**
 * One of scripts/images/, its stdout trimmed (stderr passed through). Asynchronous: a first build takes
 * minutes, and a worker blocked that long loses its link to vitest ("Timeout calling onTaskUpdate").
 */
async function script(name: string, args: string[] = [], timeout = 60_000): Promise<string> {
  const child = execFileAsync("bash", [join(REPO_ROOT, "scripts/images", name), ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    timeout,
    maxBuffer: 16 << 20,
  });
  child.child.stderr?.pipe(process.stderr);
  return (await child).stdout.trim();
}

/**
 * The outer engine for one test file, with the lab's images loaded: started (unless it already runs),
 * images built or loaded from the cache; afterAll stops it again if this file started it.
 * Call before useLabStack, so the engine is up before the stack and down after its destroy.
 */
export function useOuterEngine(): OuterEngine {
  let dockerHost = "";
  let started = false;
  let before: EngineContents | undefined;
  beforeAll(async () => {
    const socketAnswers = (host: string): boolean => {
      try {
        execFileSync(DOCKER, ["-H", host, "info"], { stdio: "ignore", timeout: 10_000 });
        return true;
      } catch {
        return false;
      }
    };
    const known = "unix:///run/dnlab-outer/docker.sock";
    started = !socketAnswers(known);
    // outer-up.sh prints the DOCKER_HOST last; it is idempotent (a running engine is left alone).
    dockerHost = (await script("outer-up.sh")).split("\n").pop()!;
    // Builds once (minutes), then loads from /var/cache/dnlab/images; prints "<name> <tag>" per image.
    const built = await script("build.sh", [], 60 * 60_000);
    for (const tag of [...Object.values(LOCAL_IMAGES), LOCAL_ZOOKEEPER]) {
      if (!built.split("\n").some((l) => l.split(/\s+/).includes(tag)))
        throw new Error(`scripts/images/build.sh did not report ${tag}:\n${built}`);
    }
    before = engineContents(dockerHost);
    if (before.containers.length > 0)
      throw new Error(
        `the outer engine ${dockerHost} is not empty (containers: ${before.containers.join(", ")}); remove them or scripts/images/outer-down.sh`,
      );
  }, 70 * 60_000);
  afterAll(async () => {
    if (started) await script("outer-down.sh", [], 180_000);
  }, 200_000);
  const engine: OuterEngine = {
    dockerHost: () => dockerHost,
    before: () => {
      if (!before) throw new Error("outer engine not ready");
      return before;
    },
    stackOptions: () => ({
      runUnder: () => OUTER_EXEC,
      leftovers: () => engineDiff(engine.before(), engineContents(dockerHost)),
      diagnostics: (plan) => dindDiagnostics(dockerHost, plan),
    }),
    npmRun: (name, ...args) => npmRunUnder([OUTER_EXEC], process.env, name, ...args),
  };
  return engine;
}

/** Each dind host's state and the tail of its inner dockerd's log (the container's own log). */
export function dindDiagnostics(dockerHost: string, plan: LabPlan): string {
  // Both streams: `docker logs` replays a container's stderr (where dockerd logs) on its own stderr.
  const sh = (args: string[]): string => {
    const r = spawnSync(DOCKER, ["-H", dockerHost, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
    return `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? r.error.message.split("\n")[0] : ""}`;
  };
  const names = [
    ...plan.hosts.map((h) => `${plan.name}-${h.name}`),
    ...(plan.kv?.provision === "local-container" ? [`${plan.name}-kv`] : []),
  ];
  return [sh(["ps", "-a"]), ...names.map((n) => `--- ${n}\n${sh(["logs", "--tail", "25", n])}`)].join("\n");
}
