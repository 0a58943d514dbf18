// One docker exec per container: scripts/verify/probes.sh runs all of that container's probes
// concurrently inside it (busybox sh) and prints each probe's output and timing; this module builds
// its command line and reads what it prints.
import { readFileSync } from "node:fs";

export type BatchProbeKind = "ping" | "dns" | "mtu" | "series";

export interface BatchProbe {
  kind: BatchProbeKind;
  /** A container name, alias or IPv4 address (no spaces: the script splits a probe into words). */
  target: string;
  /** ping, mtu: tries until a reply (not after "bad address" or a packet that does not fit); dns, series: 1. */
  attempts: number;
  /** mtu: the payload ("auto": what the interface holds); series: how many pings. */
  arg?: number | "auto";
}

export interface BatchSpec {
  /** Seconds a probe may take, its attempts together (whole seconds: ping -w and the script's clock count them). */
  probeTimeoutS: number;
  /** Probes in flight at once inside the container. */
  workers: number;
  /** Also read the container's routes, addresses and links (gwbridge-route, cnm). */
  state: boolean;
  probes: readonly BatchProbe[];
}

export interface ProbeAttempt {
  exitCode: number;
  output: string;
}

export interface ProbeRun {
  /** Seconds on the container's clock. */
  start: number;
  end?: number;
  attempts: ProbeAttempt[];
}

export interface BatchState {
  exitCode: number;
  /** When the ip commands started and finished (container clock, seconds). */
  start?: number;
  end?: number;
  route: string;
  addr: string;
  link: string;
}

export interface BatchOutput {
  state?: BatchState;
  /** By probe index. */
  probes: Map<number, ProbeRun>;
  /** When the script finished (container clock, seconds); absent when it did not get there. */
  done?: number;
}

/** The exit code of a probe command killed by a timeout (SIGTERM, or GNU timeout's 124): an attempt that was cut off. */
export const isTimeoutExit = (code: number): boolean => code === 143 || code === 124;

const SCRIPT_URL = new URL("../../scripts/verify/probes.sh", import.meta.url);
let script: string | undefined;

/** The probe runner, read once from the repo. */
export function probesScript(): string {
  script ??= readFileSync(SCRIPT_URL, "utf8");
  return script;
}

/** The exec argv: `sh -c <script> dnlab-probes TIMEOUT WORKERS STATE PROBE...`. */
export function batchCommand(spec: BatchSpec): string[] {
  for (const p of spec.probes) {
    if (!/^[^\s]+$/.test(p.target)) throw new Error(`probe target ${JSON.stringify(p.target)} is not one word`);
  }
  return [
    "sh",
    "-c",
    probesScript(),
    "dnlab-probes",
    String(Math.max(1, Math.ceil(spec.probeTimeoutS))),
    String(Math.max(1, Math.floor(spec.workers))),
    spec.state ? "1" : "0",
    ...spec.probes.map((p) => `${p.kind} ${p.target} ${Math.max(1, p.attempts)}${p.arg === undefined ? "" : ` ${p.arg}`}`),
  ];
}

/** "1795952784.877728" (or /proc/uptime's "10457.07") as seconds; exact to the microsecond. */
function seconds(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) return undefined;
  const [whole, frac = ""] = text.split(".");
  return Number(whole) + Number(`0.${frac || "0"}`);
}

/** Reads the script's output; tolerant of a cut-off end (a probe without @@end keeps what it printed). */
export function parseBatchOutput(stdout: string): BatchOutput {
  const out: BatchOutput = { probes: new Map() };
  let probe: ProbeRun | undefined;
  let attempt: string[] | undefined;
  let stateParts: string[][] | undefined;
  const closeAttempt = (exitCode: number): void => {
    if (probe && attempt) probe.attempts.push({ exitCode, output: attempt.join("\n").replace(/\n+$/, "") });
    attempt = undefined;
  };
  const closeState = (): void => {
    if (out.state && stateParts) {
      const [route = [], addr = [], link = []] = stateParts;
      Object.assign(out.state, { route: route.join("\n"), addr: addr.join("\n"), link: link.join("\n") });
    }
    stateParts = undefined;
  };
  for (const line of stdout.split("\n")) {
    const m = /^@@(state|probe|attempt|exit|end|done)(?: (\S+))?(?: (\S+))?(?: (\S+))?$/.exec(line);
    if (!m) {
      if (attempt) attempt.push(line);
      else if (line === "@@" && stateParts) stateParts.push([]);
      else if (stateParts) stateParts.at(-1)!.push(line);
      continue;
    }
    const [, tag, a, b, c] = m;
    if (tag !== "attempt" && tag !== "exit" && tag !== "end") closeState();
    switch (tag) {
      case "state": {
        const end = seconds(b);
        const start = seconds(c);
        out.state = {
          exitCode: Number(a),
          ...(start !== undefined ? { start } : {}),
          ...(end !== undefined ? { end } : {}),
          route: "",
          addr: "",
          link: "",
        };
        stateParts = [[]];
        break;
      }
      case "probe":
        probe = { start: seconds(b) ?? 0, attempts: [] };
        out.probes.set(Number(a), probe);
        break;
      case "attempt":
        attempt = [];
        break;
      case "exit":
        closeAttempt(Number(a));
        break;
      case "end": {
        const end = seconds(b);
        if (probe && end !== undefined) probe.end = end;
        probe = undefined;
        break;
      }
      case "done": {
        const done = seconds(a);
        if (done !== undefined) out.done = done;
        break;
      }
    }
  }
  closeState();
  return out;
}
