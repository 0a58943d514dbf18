// The netns lab as command lines: for every bring-up step (switch, KV host, Docker hosts, busybox
// images) the argv that creates it and the argv that deletes it. Pure: the Pulumi components
// (local.Command) and the TypeScript driver (src/lab/netnsLab.ts) both run exactly these, from the
// repository root, so the scripts under scripts/netns/ receive every name, path and address from the
// plan and never invent one.
import { IMAGES } from "./defaults.js";
import { machineNeighbourNeed } from "./neighbours.js";
import type { HostPlan, LabPlan } from "./types.js";

export interface NetnsCommandOptions {
  /** Path of the consul binary (kv.kind consul; Debian has no package, it is built from source). */
  consulBinary?: string;
  /** Static busybox the image is built from (busybox-static). */
  busyboxPath?: string;
  /** Directory of the scripts, relative to the repository root. */
  scriptsDir?: string;
  /** Readiness timeout passed to host-up/kv-up, in seconds. */
  readinessTimeoutSeconds?: number;
  /** dockerd binary for host-up (default /usr/sbin/dockerd). Debian's has no Consul store: scripts/build-dockerd-consul.sh builds one that has. */
  dockerdBinary?: string;
  /** dockerd of the hosts with dockerVersion "26": Debian trixie's 26.1.5, unpacked by scripts/fetch-docker26.sh (DNLAB_DOCKERD_26). */
  docker26Binary?: string;
}

/** Where a Docker 26 dockerd comes from, for errors and docs. */
export const DOCKER26_FIX = "npm run docker26:fetch, then export DNLAB_DOCKERD_26=<the path it prints> (docker26Binary)";

/** The dockerd binary host-up runs for a host; undefined = host-up's default, Debian's /usr/sbin/dockerd. */
export function hostDockerdBinary(h: HostPlan, opts: NetnsCommandOptions): string | undefined {
  return h.netnsDockerd === "26" ? opts.docker26Binary : opts.dockerdBinary;
}

/** Docker 26 hosts need the fetched binary: one error naming them all, before any command exists. */
function requireDocker26(plan: LabPlan, opts: NetnsCommandOptions): void {
  const want = plan.hosts.filter((h) => h.netnsDockerd === "26");
  if (want.length === 0 || opts.docker26Binary) return;
  const keys = want.map((h) => `lab:hosts[${h.index}].dockerVersion = ${JSON.stringify(h.dockerVersion)}`).join(", ");
  throw new Error(
    `${keys}: ${want.length === 1 ? "this netns host runs" : "these netns hosts run"} Debian trixie's dockerd 26 (${want.map((h) => h.name).join(", ")}), ` +
      `and no Docker 26 binary was given; nothing was created. Fix: ${DOCKER26_FIX}, or remove dockerVersion for this machine's Docker 20.10.`,
  );
}

/**
 * Where every netns lab of the machine reserves its size of the kernel's neighbour table: one place for
 * all labs, because the table is the kernel's (scripts/netns/neigh-table.sh).
 */
export const NEIGH_RESERVATIONS_DIR = "/run/dnlab-neigh";

/** A lab's reservation file. */
export const neighbourReservation = (plan: Pick<LabPlan, "name">): string => `${NEIGH_RESERVATIONS_DIR}/${plan.name}`;

export type NetnsStepKind = "neighbours" | "switch" | "kv" | "host" | "image";

export interface NetnsStep {
  /** Stable id: "switch", "kv", "host:host1", "image:host1". */
  id: string;
  kind: NetnsStepKind;
  /** The Docker host the step belongs to (host and image steps). */
  host?: string;
  create: string[];
  delete: string[];
}

export interface NetnsLabCommands {
  /** Reserves the kernel neighbour table's size for the lab (scripts/netns/neigh-table.sh). */
  neighbours: NetnsStep;
  switch: NetnsStep;
  kv?: NetnsStep;
  hosts: NetnsStep[];
  images: NetnsStep[];
}

export const DEFAULT_BUSYBOX_PATH = "/bin/busybox";
export const DEFAULT_NETNS_SCRIPTS_DIR = "scripts/netns";
/** The tag the recipe builds; workload image names are added as further tags. */
export const BUSYBOX_BASE_TAG = "busybox:latest";
/** The KV host's veth end in the switch namespace (host ends start with "v-" or "vx"). */
export const KV_SWITCH_END = "kv";

const IFNAMSIZ = 15;

/** The host's veth end inside the switch namespace: v-<host> when it fits in an interface name. */
export function switchEndName(host: Pick<HostPlan, "name" | "index">): string {
  const byName = `v-${host.name}`;
  return byName.length <= IFNAMSIZ ? byName : `vx${host.index}`;
}

/** Where the KV host keeps its data, pid and log (inside the lab's runtime root). */
export function netnsKvDir(plan: LabPlan): string {
  return `${requireNetns(plan).root}/kv`;
}

/** The lab's own top-level directories (removed, when empty, after everything else). */
export function netnsLabDirs(plan: LabPlan): string[] {
  const root = requireNetns(plan).root;
  const stateRoots = new Set(plan.hosts.map((h) => dirname(requireHostPaths(h).stateDir)));
  return [root, ...[...stateRoots].filter((d) => d !== root)];
}

/** The tags built on a host: busybox:latest, the default workload image, every workload image of the plan. */
export function busyboxTags(plan: LabPlan): string[] {
  const tags = [BUSYBOX_BASE_TAG, IMAGES.busybox];
  for (const w of plan.workloads) if (!tags.includes(w.image)) tags.push(w.image);
  return tags;
}

/** What every step builder of one lab shares: its plan, its netns layout and how a script is called. */
interface StepContext {
  plan: LabPlan;
  lab: NonNullable<LabPlan["netns"]>;
  opts: NetnsCommandOptions;
  script(name: string): string[];
  /** --timeout for the readiness waits, when the caller set one. */
  timeout: string[];
  /** The arguments that give a namespace its uplink to the lab's switch, at `address`. */
  uplink(ns: string, end: string, address: string): string[];
}

export function netnsCommands(plan: LabPlan, opts: NetnsCommandOptions = {}): NetnsLabCommands {
  const lab = requireNetns(plan);
  const dir = opts.scriptsDir ?? DEFAULT_NETNS_SCRIPTS_DIR;
  const prefix = `/${plan.underlay.prefixLength}`;
  const c: StepContext = {
    plan,
    lab,
    opts,
    script: (name) => ["bash", `${dir}/${name}.sh`],
    timeout: opts.readinessTimeoutSeconds === undefined ? [] : ["--timeout", String(opts.readinessTimeoutSeconds)],
    uplink: (ns, end, address) => [
      "--namespace",
      ns,
      "--switch",
      lab.switchNamespace,
      "--bridge",
      lab.bridge,
      "--switch-end",
      end,
      "--iface",
      plan.underlay.interface,
      "--address",
      address + prefix,
      "--gateway",
      plan.underlay.gateway,
    ],
  };
  const kv = plan.kv && plan.kv.provision === "netns" ? kvStep(c, plan.kv) : undefined;
  requireDocker26(plan, opts);
  const tags = busyboxTags(plan);
  return {
    neighbours: neighboursStep(c),
    switch: switchStep(c),
    ...(kv ? { kv } : {}),
    hosts: plan.hosts.map((h) => hostStep(c, h)),
    images: plan.hosts.map((h) => imageStep(c, h, tags)),
  };
}

function switchStep({ plan, lab, script }: StepContext): NetnsStep {
  return {
    id: "switch",
    kind: "switch",
    create: [
      ...script("switch-up"),
      "--namespace",
      lab.switchNamespace,
      "--bridge",
      lab.bridge,
      "--gateway",
      `${plan.underlay.gateway}/${plan.underlay.prefixLength}`,
    ],
    delete: [...script("switch-down"), "--namespace", lab.switchNamespace, ...netnsLabDirs(plan).flatMap((d) => ["--rmdir", d])],
  };
}

function kvStep({ plan, lab, opts, script, timeout, uplink }: StepContext, k: NonNullable<LabPlan["kv"]>): NetnsStep {
  const consul: string[] = [];
  if (k.kind === "consul") {
    if (!opts.consulBinary) {
      throw new Error(
        'lab:kv.kind = "consul" on a netns lab needs a consul binary, and none was given. ' +
          "Fix: build it (npm run consul:build) and pass its path (consulBinary / --consul-bin), or set kv.kind to etcd.",
      );
    }
    consul.push("--consul-bin", opts.consulBinary);
  }
  const kvDir = netnsKvDir(plan);
  return {
    id: "kv",
    kind: "kv",
    create: [
      ...script("kv-up"),
      "--kind",
      k.kind,
      "--name",
      k.nodeName,
      ...uplink(lab.kvNamespace, KV_SWITCH_END, k.address),
      "--port",
      String(k.port),
      "--dir",
      kvDir,
      ...consul,
      ...timeout,
    ],
    delete: [...script("kv-down"), "--namespace", lab.kvNamespace, "--dir", kvDir],
  };
}

function hostStep({ opts, script, timeout, uplink }: StepContext, h: HostPlan): NetnsStep {
  const p = requireHostPaths(h);
  const dockerd = hostDockerdBinary(h, opts);
  const paths = [
    "--state-dir",
    p.stateDir,
    "--data-root",
    p.dataRoot,
    "--exec-root",
    p.execRoot,
    "--pidfile",
    p.pidFile,
    "--socket",
    p.socket,
  ];
  return {
    id: `host:${h.name}`,
    kind: "host",
    host: h.name,
    create: [
      ...script("host-up"),
      "--name",
      h.name,
      ...uplink(p.namespace, switchEndName(h), h.address),
      ...paths,
      ...timeout,
      ...(dockerd ? ["--dockerd", dockerd] : []),
      "--",
      ...h.daemon.args,
    ],
    delete: [...script("host-down"), "--namespace", p.namespace, ...paths],
  };
}

function imageStep({ opts, script }: StepContext, h: HostPlan, tags: readonly string[]): NetnsStep {
  const p = requireHostPaths(h);
  return {
    id: `image:${h.name}`,
    kind: "image",
    host: h.name,
    create: [
      ...script("busybox-image"),
      "--socket",
      p.socket,
      "--rootfs",
      `${p.stateDir}/busybox-rootfs`,
      "--busybox",
      opts.busyboxPath ?? DEFAULT_BUSYBOX_PATH,
      ...tags.flatMap((t) => ["--tag", t]),
    ],
    // The image lives in the host's data-root, which host-down removes.
    delete: ["true"],
  };
}

/**
 * The neighbour table is the kernel's, shared by every namespace: sized before any of them exists,
 * released after the last is gone. Its create runs again when the need changes (more containers).
 */
function neighboursStep({ plan, script }: StepContext): NetnsStep {
  return {
    id: "neighbours",
    kind: "neighbours",
    create: [
      ...script("neigh-table"),
      "reserve",
      "--lab",
      plan.name,
      "--gc-thresh3",
      String(machineNeighbourNeed(plan).gcThresh3),
      "--dir",
      NEIGH_RESERVATIONS_DIR,
    ],
    delete: [...script("neigh-table"), "release", "--lab", plan.name, "--dir", NEIGH_RESERVATIONS_DIR],
  };
}

/** All steps in bring-up order: neighbour table, switch, KV, hosts, images (teardown runs them in reverse). */
export function netnsSteps(plan: LabPlan, opts: NetnsCommandOptions = {}): NetnsStep[] {
  const c = netnsCommands(plan, opts);
  return [c.neighbours, c.switch, ...(c.kv ? [c.kv] : []), ...c.hosts, ...c.images];
}

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote an argv for sh: safe words stay bare, everything else is single-quoted. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map((a) => (SAFE.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

function requireNetns(plan: LabPlan): NonNullable<LabPlan["netns"]> {
  if (plan.hostKind !== "netns" || !plan.netns) {
    throw new Error(
      `lab:hostKind = ${JSON.stringify(plan.hostKind)}: netns commands exist only for netns labs. Fix: set hostKind to netns.`,
    );
  }
  return plan.netns;
}

function requireHostPaths(h: HostPlan): NonNullable<HostPlan["netns"]> {
  if (!h.netns) throw new Error(`host ${h.name} has no netns paths (the plan was not built with hostKind netns)`);
  return h.netns;
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/**
 * A host step's create argv that restarts its running dockerd even when it already runs as planned
 * (host-up.sh --restart REASON): the verifier found it stuck (src/lab/recover.ts).
 */
export function netnsRestartArgv(step: NetnsStep, reason: string): string[] {
  if (step.kind !== "host") throw new Error(`netns step ${step.id} is not a host: only a host's dockerd restarts`);
  const i = step.create.indexOf("--");
  if (i < 0) throw new Error(`netns step ${step.id} has no -- before the dockerd flags`);
  return [...step.create.slice(0, i), "--restart", reason, ...step.create.slice(i)];
}
