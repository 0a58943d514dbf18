// The argv of the baseline scripts for a plan: every name, path and address from the model, so
// bench/baseline/bringup.sh builds the same layout as the stack (and the lab's teardown removes it),
// checks.sh probes the plan's containers, and teardown.sh runs the lab's own teardown steps.
import { containerArgvs, networkCreateArgv } from "../src/docker/cli.js";
import {
  busyboxTags,
  DEFAULT_BUSYBOX_PATH,
  KV_SWITCH_END,
  type LabPlan,
  netnsCommands,
  netnsKvDir,
  networkSpec,
  switchEndName,
  workloadSpec,
} from "../src/model/index.js";

export const BASELINE_SCRIPT = "bench/baseline/bringup.sh";
export const CHECKS_SCRIPT = "bench/baseline/checks.sh";
export const TEARDOWN_SCRIPT = "bench/baseline/teardown.sh";

function field(what: string, v: string): string {
  if (v.includes(";")) throw new Error(`baseline: ${what} ${JSON.stringify(v)} contains ';', the script's field separator`);
  return v;
}

/** The script's separator between the words of a docker argv (a command's words may hold ';' or spaces). */
const US = "\x1f";
function argvField(what: string, argv: readonly string[]): string {
  const bad = argv.find((a) => a.includes(US));
  if (bad !== undefined) throw new Error(`baseline: ${what} has an argument holding the unit separator: ${JSON.stringify(bad)}`);
  return argv.join(US);
}

/** Plans the baseline can build: netns, etcd KV run by the lab, one overlay, one container per host on it. */
export function baselineArgs(plan: LabPlan, o: { timeoutSeconds?: number; busybox?: string } = {}): string[] {
  const lab = plan.netns;
  const kv = plan.kv;
  const net = plan.networks[0];
  if (plan.hostKind !== "netns" || !lab) throw new Error(`baseline: lab ${plan.name} is not a netns lab`);
  if (kv?.kind !== "etcd" || kv.provision !== "netns") throw new Error(`baseline: lab ${plan.name} needs an etcd KV store run by the lab`);
  if (plan.networks.length !== 1 || !net || net.driver !== "overlay")
    throw new Error(`baseline: lab ${plan.name} needs exactly one overlay network`);
  if (net.createdOn !== plan.hosts[0]?.name) throw new Error(`baseline: lab ${plan.name} must create ${net.name} on its first host`);
  const prefix = `/${plan.underlay.prefixLength}`;
  const image = plan.workloads[0]?.image;
  if (!image) throw new Error(`baseline: lab ${plan.name} has no workloads`);
  const hosts = plan.hosts.map((h, hi) => {
    const p = h.netns;
    if (!p) throw new Error(`baseline: host ${h.name} has no netns paths`);
    const ws = plan.workloads.filter((w) => w.host === h.name);
    const w = ws[0];
    if (ws.length !== 1 || !w || w.attachments.length !== 1 || w.attachments[0]!.network !== net.name || w.image !== image) {
      throw new Error(`baseline: host ${h.name} needs exactly one container, on ${net.name}, with image ${image}`);
    }
    const fields = [
      h.name,
      p.namespace,
      switchEndName(h),
      h.address + prefix,
      p.stateDir,
      p.dataRoot,
      p.execRoot,
      p.pidFile,
      p.socket,
      ...h.daemon.args,
    ];
    // The container's docker calls (create, networks, start), each led by the host's index.
    const runs = containerArgvs(workloadSpec(w)).flatMap((argv) => ["--run", argvField(`container ${w.name}`, [String(hi), ...argv])]);
    return ["--host", fields.map((v, i) => field(`host ${h.name} field ${i + 1}`, v)).join(";"), ...runs];
  });
  return [
    "bash",
    BASELINE_SCRIPT,
    "--switch",
    lab.switchNamespace,
    "--bridge",
    lab.bridge,
    "--gateway",
    plan.underlay.gateway + prefix,
    "--iface",
    plan.underlay.interface,
    "--kv-namespace",
    lab.kvNamespace,
    "--kv-switch-end",
    KV_SWITCH_END,
    "--kv-name",
    kv.nodeName,
    "--kv-address",
    kv.address + prefix,
    "--kv-port",
    String(kv.port),
    "--kv-dir",
    netnsKvDir(plan),
    "--network",
    net.name,
    "--network-create",
    argvField(`network ${net.name}`, networkCreateArgv(networkSpec(net, net.createdOn))),
    // Removed by the script after the import; host-down removes the state dir in any case.
    "--rootfs",
    `${plan.hosts[0]!.netns!.stateDir}/busybox-rootfs`,
    ...busyboxTags(plan).flatMap((t) => ["--tag", t]),
    "--busybox",
    o.busybox ?? DEFAULT_BUSYBOX_PATH,
    "--timeout",
    String(o.timeoutSeconds ?? 60),
    ...hosts.flat(),
  ];
}

/** checks.sh for a plan baselineArgs accepts: its overlay, each host's socket and exec-root, each container. */
export function checksArgs(plan: LabPlan): string[] {
  baselineArgs(plan);
  const net = plan.networks[0]!;
  return [
    "bash",
    CHECKS_SCRIPT,
    "--network",
    net.name,
    ...plan.hosts.flatMap((h) => ["--host", [h.name, h.netns!.socket, h.netns!.execRoot].map((v) => field(`host ${h.name}`, v)).join(";")]),
    ...plan.workloads.flatMap((w) => [
      "--container",
      [w.name, w.host, w.attachments[0]!.ipv4].map((v) => field(`container ${w.name}`, v)).join(";"),
    ]),
  ];
}

/** teardown.sh: the lab's own teardown steps (hosts, KV, switch), one after another. */
export function teardownArgs(plan: LabPlan): string[] {
  // Neither a consul nor a Docker 26 binary is needed to stop them (as in downNetnsLab).
  const c = netnsCommands(plan, { consulBinary: "consul", docker26Binary: "dockerd" });
  const steps = [...c.hosts, ...(c.kv ? [c.kv] : []), c.switch];
  return ["bash", TEARDOWN_SCRIPT, ...steps.flatMap((st) => ["--step", st.delete.map((v) => field(`step ${st.id}`, v)).join(";")])];
}
