// What the inner daemons of a dind lab need from the engine the hosts run on, checked before anything
// is created: privileged containers (the hosts are privileged), a cgroup setup a nested dockerd can
// use, iptables (every inner daemon programs NAT and filter rules), and the kernel features the plan's
// networks need (vxlan, macvlan, 802.1q, as for netns labs: src/lab/kernel.ts decides and words them).
//
// The probe answers truthfully by doing it: one throwaway container from the lab's own dind image,
// `--privileged --rm --network none` (so it has a network namespace of its own and sends nothing
// anywhere), whose shell script reports cgroups and iptables and creates the probe links. A machine
// like the one the lab was first run on, whose capability bounding set lacks CAP_SYS_RESOURCE, fails
// right there with runc's "unable to apply caps: operation not permitted"; the local bounding set
// (read when the engine is on this machine) then says which capability is missing.
import { readFileSync } from "node:fs";
import { type LabPlan, zookeeperDockerdProblem } from "../model/index.js";
import { type NeighbourTable, neighbourTableProblem, readNeighbourTable } from "./neighbourTable.js";
import { checkKernel, type FeatureAnswer, KERNEL_FEATURES, type KernelFeature, kernelNeeds, probeLinkArgv, probeTool } from "./kernel.js";
import { run } from "./run.js";

/** What the probe container reported (one `key value...` line each). */
export interface DindProbeReport {
  cgroup: { version: 1; devices: boolean } | { version: 2; writable: boolean };
  iptables: FeatureAnswer;
  features: Partial<Record<KernelFeature, FeatureAnswer>>;
  /** Why the image could not probe the kernel (no `ip` in it, no veth): the features stay unchecked. */
  unknown?: string;
  /** The image's `dockerd --version` line ("" when it has none on PATH). */
  dockerd?: string;
}

/** The probe run: the container started and reported, or it could not start (engine, image, privileges). */
export type DindProbeResult = { started: true; report: DindProbeReport } | { started: false; detail: string };

export interface DindProbeInput {
  /** The engine's address (docker:host / DOCKER_HOST), for the messages. */
  engine: string;
  image: string;
  result: DindProbeResult;
  /** CapBnd of /proc/self/status (hex) when the engine runs on this machine; explains a caps failure. */
  localCapBnd?: string;
  /** The neighbour table of this machine's kernel, when the engine runs on it and it can be read. */
  localNeighbours?: NeighbourTable;
}

/** Linux capability names by number (capability.h), as runc grants them to a privileged container. */
const CAPS = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
] as const;

/** The capabilities (CAP_*) up to lastCap that a CapBnd hex mask lacks. */
export function missingCapabilities(capBndHex: string, lastCap: number = CAPS.length - 1): string[] {
  const mask = BigInt(`0x${capBndHex.trim() || "0"}`);
  const out: string[] = [];
  for (let c = 0; c <= lastCap && c < CAPS.length; c++) {
    if (((mask >> BigInt(c)) & 1n) === 0n) out.push(`CAP_${CAPS[c]}`);
  }
  return out;
}

/** The kernel features the plan's networks need (the probe creates only those links). */
export function dindFeatures(plan: LabPlan): KernelFeature[] {
  const needs = kernelNeeds(plan);
  return KERNEL_FEATURES.filter((f) => needs.some((n) => n.feature === f));
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The probe container's script (POSIX sh; needs `ip` and `iptables`, as every dind image has). Prints
 * `cgroup 1 devices|nodevices`, `cgroup 2 writable|readonly`, `iptables ok|fail <msg>`,
 * `feature <name> ok|fail <msg>` (or `unknown <msg>` when it cannot tell), `dockerd <its --version line>`.
 */
export function dindProbeScript(features: readonly KernelFeature[]): string {
  const lines = [
    "if [ -f /sys/fs/cgroup/cgroup.controllers ]; then",
    "  if [ -w /sys/fs/cgroup/cgroup.subtree_control ]; then echo 'cgroup 2 writable'; else echo 'cgroup 2 readonly'; fi",
    "elif grep -q ' /sys/fs/cgroup/devices ' /proc/self/mountinfo 2>/dev/null || grep -qE ' /sys/fs/cgroup/[^ ]*devices' /proc/self/mountinfo 2>/dev/null; then echo 'cgroup 1 devices'",
    "else echo 'cgroup 1 nodevices'; fi",
    'if out=$(iptables -t nat -S 2>&1); then echo \'iptables ok\'; else echo "iptables fail $(echo "$out" | head -n1)"; fi',
    'echo "dockerd $(dockerd --version 2>/dev/null | head -n1)"',
  ];
  if (features.length > 0) {
    lines.push(
      "if ! command -v ip >/dev/null 2>&1; then",
      ...features.map((f) => `  echo 'feature ${f} unknown no ip command in the image'`),
      "elif ! out=$(ip link add kp0 type veth peer name kp1 2>&1); then",
      ...features.map((f) => `  echo "feature ${f} unknown veth: $(echo "$out" | head -n1)"`),
      "else",
      ...features.map((f) =>
        probeTool(f) === "tc"
          ? // A delay fault runs tc inside the host container: an image without it cannot have one, whatever the kernel.
            `  if ! command -v tc >/dev/null 2>&1; then echo 'feature ${f} fail the image has no tc (iproute2)'; elif out=$(tc ${probeLinkArgv(f).map(q).join(" ")} 2>&1); then echo 'feature ${f} ok'; else echo "feature ${f} fail $(echo "$out" | head -n1)"; fi`
          : `  if out=$(ip ${probeLinkArgv(f).map(q).join(" ")} 2>&1); then echo 'feature ${f} ok'; else echo "feature ${f} fail $(echo "$out" | head -n1)"; fi`,
      ),
      "fi",
    );
  }
  return lines.join("\n");
}

/** Parse the probe's output; undefined when it is not a report (the container printed something else). */
export function parseDindProbe(stdout: string): DindProbeReport | undefined {
  let cgroup: DindProbeReport["cgroup"] | undefined;
  let iptables: FeatureAnswer | undefined;
  const features: DindProbeReport["features"] = {};
  let unknown: string | undefined;
  let dockerd: string | undefined;
  for (const line of stdout.split("\n").map((l) => l.trim())) {
    const [key, a, ...rest] = line.split(" ");
    if (key === "dockerd") dockerd = line.slice("dockerd".length).trim();
    if (key === "cgroup")
      cgroup = a === "2" ? { version: 2, writable: rest[0] === "writable" } : { version: 1, devices: rest[0] === "devices" };
    else if (key === "iptables") iptables = a === "ok" ? { ok: true } : { ok: false, detail: rest.join(" ") || "failed" };
    else if (key === "feature" && (KERNEL_FEATURES as readonly string[]).includes(a ?? "")) {
      const [state, ...why] = rest;
      if (state === "unknown") unknown = why.join(" ") || "no answer";
      else features[a as KernelFeature] = state === "ok" ? { ok: true } : { ok: false, detail: why.join(" ") || "failed" };
    }
  }
  if (!cgroup || !iptables) return undefined;
  return { cgroup, iptables, features, ...(unknown !== undefined ? { unknown } : {}), ...(dockerd !== undefined ? { dockerd } : {}) };
}

const CAPS_FAILURE = /unable to apply caps|operation not permitted/i;
const IMAGE_MISSING =
  /unable to find image|pull access denied|manifest unknown|no such image|repository does not exist|failed to resolve reference/i;

/** Decide from the probe what the dind lab cannot have on this engine; empty problems: it can be created. */
export async function checkDind(plan: LabPlan, input: DindProbeInput): Promise<{ problems: string[]; notes: string[] }> {
  const { engine, image, result } = input;
  const problems: string[] = [];
  const notes: string[] = [];
  const imageKey = plan.overlayMode === "kv" ? "lab:images.dindKv" : "lab:images.dindSwarm";
  if (!result.started) {
    const d = result.detail.trim().split("\n").slice(-2).join(" ");
    if (CAPS_FAILURE.test(d)) {
      const missing = input.localCapBnd === undefined ? [] : missingCapabilities(input.localCapBnd);
      const why =
        missing.length > 0
          ? `this machine's capability bounding set lacks ${missing.join(", ")}, which runc grants every privileged container`
          : "the engine cannot grant a privileged container every capability (its capability bounding set is restricted)";
      problems.push(
        `lab:hostKind = "dind": privileged containers cannot start on the Docker engine at ${engine} (${d}); every dind host is one. ` +
          `Cause: ${why}. Fix: run the lab on an engine on a machine or VM with the full capability set, or on an engine whose ` +
          `runtime drops the missing capabilities (scripts/images/outer-up.sh starts one), or use lab:hostKind "netns"`,
      );
    } else if (IMAGE_MISSING.test(d)) {
      problems.push(
        `${imageKey} = ${JSON.stringify(image)}: the Docker engine at ${engine} does not have this image and cannot pull it (${d}). ` +
          `Fix: name an image it has or can pull in ${imageKey} (scripts/images/build.sh builds local ones)`,
      );
    } else {
      problems.push(
        `lab:hostKind = "dind": a privileged probe container from ${image} could not run on the Docker engine at ${engine}: ${d}. ` +
          `Fix: check that the engine answers (docker -H ${engine} info) and can run privileged containers`,
      );
    }
    return { problems, notes };
  }
  const r = result.report;
  // Every dind host shares the engine's kernel, and with it one neighbour table.
  if (input.localNeighbours) {
    const p = neighbourTableProblem(plan, input.localNeighbours, `of the Docker engine's machine (${engine})`);
    if (p) problems.push(`lab:workloads: ${p}`);
  }
  if (r.cgroup.version === 1 && !r.cgroup.devices) {
    problems.push(
      `lab:hostKind = "dind": containers on the Docker engine at ${engine} see no devices cgroup (/sys/fs/cgroup/devices), so the inner dockerds fail with "Devices cgroup isn't mounted". ` +
        "Fix: run the engine on a host that mounts the cgroup v1 devices controller or uses cgroup v2 (an engine started with `ip netns exec` loses it: start it with nsenter --net)",
    );
  }
  if (r.cgroup.version === 2 && !r.cgroup.writable) {
    problems.push(
      `lab:hostKind = "dind": /sys/fs/cgroup is read-only in a privileged container on the Docker engine at ${engine}, ` +
        "so the inner dockerds cannot make cgroups for their containers. " +
        "Fix: an engine whose privileged containers get a writable cgroup v2 tree (Docker 20.10+ does by default)",
    );
  }
  if (!r.iptables.ok) {
    problems.push(
      `lab:hostKind = "dind": iptables does not work in a privileged container on the Docker engine at ${engine} ` +
        `(iptables -t nat -S: ${r.iptables.detail}); every inner dockerd needs its nat and filter tables. ` +
        "Fix: a kernel with netfilter NAT (nf_tables or ip_tables with iptable_nat)",
    );
  }
  if (plan.kv?.kind === "zookeeper" && plan.overlayMode === "kv" && r.dockerd !== undefined) {
    const why = zookeeperDockerdProblem(r.dockerd);
    if (why)
      problems.push(
        `lab:kv.kind = "zookeeper": the dind image ${image}: ${why}. Fix: ${imageKey}: dnlab-local/dind:20.10.24 ` +
          "(scripts/images/build.sh; its dockerd carries the fix), or set kv.kind to etcd or consul",
      );
  }
  if (r.unknown !== undefined) {
    // An image without iproute2 cannot answer; the lab then finds out when it creates the networks.
    notes.push(
      `the kernel features the networks need (${dindFeatures(plan).join(", ")}) were not checked: the dind image ${image} could not create probe links (${r.unknown})`,
    );
    return { problems, notes };
  }
  // A delay fault runs tc inside the host container: an image without it is refused as such, not as a kernel without netem.
  const features = { ...r.features };
  const netem = features.netem;
  if (netem && !netem.ok && /no tc/.test(netem.detail)) {
    // Reported here, as the image's problem; the kernel is not asked about again.
    features.netem = { ok: true };
    const keys = kernelNeeds(plan)
      .filter((n) => n.feature === "netem")
      .map((n) => n.key);
    problems.push(
      `${keys.join(", ")}: the dind image ${image} has no tc (iproute2), which a delay fault runs inside each host's container (tc qdisc ... netem). ` +
        `Fix: name a dind image that has tc in ${imageKey} (e.g. one built FROM it with iproute2 added, loaded on the engine), remove the delay fault, or run the lab on netns or ssh hosts`,
    );
  }
  // The same decision and wording as for netns labs, from the answers given inside the container.
  const kernel = await checkKernel(plan, { features: async () => features, ipvs: async () => true });
  problems.push(...kernel.problems.map((p) => `${p} [probed in a privileged container on the Docker engine at ${engine}]`));
  notes.push(...kernel.notes);
  return { problems, notes };
}

export interface DindProbeOptions {
  /** The docker CLI (Debian's client by default). */
  dockerCli?: string;
  timeoutMs?: number;
  /** Probe with this runtime of the engine instead of its default (e.g. plain runc on an engine whose default drops capabilities). */
  runtime?: string;
}

/** Run the probe container on the engine (pulls the image if the engine can and does not have it). */
export async function runDindProbe(
  engine: string,
  image: string,
  features: readonly KernelFeature[],
  opts: DindProbeOptions = {},
): Promise<DindProbeResult> {
  const docker = [opts.dockerCli ?? "/usr/bin/docker", "-H", engine];
  // A name of its own: a container whose start failed may stay behind despite --rm; it is removed by name.
  const name = `dnlab-preflight-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const argv = [
    ...docker,
    "run",
    "--rm",
    "--name",
    name,
    "--privileged",
    "--network",
    "none",
    ...(opts.runtime ? ["--runtime", opts.runtime] : []),
    "--entrypoint",
    "sh",
    image,
    "-c",
    dindProbeScript(features),
  ];
  try {
    const r = await run(argv, { timeoutMs: opts.timeoutMs ?? 120_000 });
    if (r.code !== 0) return { started: false, detail: r.stderr.trim() || r.stdout.trim() || `exit ${r.code ?? "timeout"}` };
    const report = parseDindProbe(r.stdout);
    return report ? { started: true, report } : { started: false, detail: `the probe printed no report: ${r.stdout.trim().slice(0, 200)}` };
  } finally {
    await run([...docker, "rm", "-f", name], { timeoutMs: 60_000 });
  }
}

/** This machine's capability bounding set, when the engine is on it (a unix socket); else undefined. */
export function localCapBnd(engine: string): string | undefined {
  if (!engine.startsWith("unix://")) return undefined;
  try {
    return /^CapBnd:\s*([0-9a-f]+)/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The dind preflight: probe the engine, throw one error listing everything missing (nothing created).
 * Returns the notes (things that refuse nothing).
 */
export async function dindPreflight(
  plan: LabPlan,
  engine: string,
  opts: DindProbeOptions & { probe?: typeof runDindProbe } = {},
): Promise<string[]> {
  const image = plan.images.dind;
  if (plan.hostKind !== "dind" || image === undefined) return [];
  const result = await (opts.probe ?? runDindProbe)(engine, image, dindFeatures(plan), opts);
  const capBnd = localCapBnd(engine);
  const neighbours = engine.startsWith("unix://") ? readNeighbourTable() : undefined;
  const { problems, notes } = await checkDind(plan, {
    engine,
    image,
    result,
    ...(capBnd !== undefined ? { localCapBnd: capBnd } : {}),
    ...(neighbours !== undefined ? { localNeighbours: neighbours } : {}),
  });
  if (problems.length > 0)
    throw new Error(
      `dind lab ${plan.name} cannot be created on the Docker engine at ${engine}; nothing was created:\n  - ${problems.join("\n  - ")}`,
    );
  return notes;
}
