// A scripted DockerEngine for the verifier's unit tests: containers, networks and exec answers in memory.
import type { LabPlan } from "../../src/model/index.js";
import type { ContainerInfo, DockerEngine, ExecResult, HelperSpec, NetworkInfo } from "../../src/docker/api.js";

export type ExecHandler = (container: string, cmd: string[], engine: FakeEngine) => ExecResult | Promise<ExecResult>;

export const ok = (stdout: string): ExecResult => ({ exitCode: 0, stdout, stderr: "" });
export const failed = (stdout: string, exitCode = 1): ExecResult => ({ exitCode, stdout, stderr: "" });
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function container(name: string, networks: Record<string, { ip: string; mac?: string }>, running = true): ContainerInfo {
  return {
    Id: `${name}-id`.padEnd(64, "0"),
    Name: `/${name}`,
    State: running ? { Status: "running", Running: true, Pid: 4242 } : { Status: "exited", Running: false, ExitCode: 137 },
    NetworkSettings: {
      SandboxID: `sb-${name}`.padEnd(64, "0"),
      SandboxKey: running ? `/run/docker/netns/sb-${name}` : "",
      Networks: Object.fromEntries(
        Object.entries(networks).map(([net, a]) => [
          net,
          {
            NetworkID: `${net}-id`,
            EndpointID: `ep-${name}-${net}`,
            IPAddress: a.ip,
            IPPrefixLen: 24,
            MacAddress: a.mac ?? "02:42:00:00:00:01",
            Gateway: "",
          },
        ]),
      ),
    },
  };
}

export function network(
  name: string,
  driver: string,
  subnet: string,
  id = Buffer.from(name).toString("hex").padEnd(64, "0").slice(0, 64),
): NetworkInfo {
  return { Name: name, Id: id, Driver: driver, IPAM: { Config: [{ Subnet: subnet }] }, Options: {} };
}

export interface ExecCall {
  container: string;
  cmd: string[];
  start: number;
  end?: number;
}

export class FakeEngine implements DockerEngine {
  readonly containers = new Map<string, ContainerInfo>();
  readonly networks = new Map<string, NetworkInfo>();
  readonly execs: ExecCall[] = [];
  readonly created: { id: string; spec: HelperSpec }[] = [];
  readonly removed: string[] = [];
  unreachable?: string;
  closed = false;

  constructor(
    readonly endpoint: string,
    public onExec: ExecHandler,
  ) {}

  private async gate(): Promise<void> {
    await sleep(1);
    if (this.unreachable) throw new Error(this.unreachable);
  }

  async ping(): Promise<void> {
    await this.gate();
  }
  async version(): Promise<{ Version: string; ApiVersion: string }> {
    await this.gate();
    return { Version: "20.10.24", ApiVersion: "1.41" };
  }
  async inspectContainer(name: string): Promise<ContainerInfo | undefined> {
    await this.gate();
    return this.containers.get(name) ?? [...this.containers.values()].find((c) => c.Id === name);
  }
  async inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
    await this.gate();
    return this.networks.get(name);
  }
  async listNetworks(): Promise<NetworkInfo[]> {
    await this.gate();
    return [...this.networks.values()];
  }
  async exec(ref: string, cmd: string[], o?: { signal?: AbortSignal }): Promise<ExecResult> {
    await this.gate();
    // The verifier execs by ID (a name could fall back to another container's ID prefix); calls are recorded by name.
    const byId = [...this.containers.values()].find((c) => c.Id === ref);
    const container = byId ? byId.Name.slice(1) : ref;
    const call: ExecCall = { container, cmd, start: performance.now() };
    this.execs.push(call);
    const r = await Promise.race([
      cmd[3] === "dnlab-probes" ? this.probes(container, cmd.slice(4)) : Promise.resolve(this.onExec(container, cmd, this)),
      new Promise<never>((_, reject) => o?.signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true })),
    ]);
    call.end = performance.now();
    return r;
  }
  /**
   * What scripts/verify/probes.sh prints (args: TIMEOUT WORKERS STATE PROBE...), each probe answered by
   * onExec as if it were exec'ed on its own (ping -c 1 -W 2 TARGET, nslookup TARGET, the ip commands as
   * one sh -c): attempts until a reply or a "bad address", all within TIMEOUT; an attempt still running
   * then is killed like busybox timeout does (exit 143).
   */
  private async probes(container: string, args: string[]): Promise<ExecResult> {
    const [timeoutS = "1", workers = "1", state = "0", ...probes] = args;
    const stamp = (): string => ((performance.timeOrigin + performance.now()) / 1000).toFixed(6);
    const nl = (t: string): string => (t === "" || t.endsWith("\n") ? t : `${t}\n`);
    const parts: string[] = [];
    const stateRun = async (): Promise<void> => {
      if (state !== "1") return;
      const t0 = stamp();
      const r = await this.onExec(container, ["sh", "-c", "ip route; echo @@; ip -o -4 addr; echo @@; ip -o link"], this);
      parts.push(`@@state ${r.exitCode} ${stamp()} ${t0}\n${nl(r.stdout + r.stderr)}`);
    };
    const attempt = async (cmd: string[], ms: number): Promise<ExecResult> => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = new Promise<ExecResult>(
        (r) => (timer = setTimeout(() => r({ exitCode: 143, stdout: "", stderr: "Terminated\n" }), ms)),
      );
      try {
        return await Promise.race([Promise.resolve(this.onExec(container, cmd, this)), killed]);
      } finally {
        clearTimeout(timer);
      }
    };
    const one = async (p: string, i: number): Promise<void> => {
      const [kind, target = "", attempts = "1"] = p.split(" ");
      let out = `@@probe ${i} ${stamp()}\n`;
      const deadline = performance.now() + Number(timeoutS) * 1000;
      for (let a = 0; a < Number(attempts) && deadline - performance.now() > 0; a++) {
        const r = await attempt(
          kind === "dns" ? ["nslookup", target] : ["ping", "-c", "1", "-W", "2", target],
          deadline - performance.now(),
        );
        out += `@@attempt\n${nl(r.stdout + r.stderr)}@@exit ${r.exitCode}\n`;
        if (r.exitCode === 0 || (r.stdout + r.stderr).includes("bad address")) break;
      }
      parts.push(`${out}@@end ${i} ${stamp()}\n`);
    };
    // Worker k runs probes k, k+WORKERS, ... one after the other, like the script.
    const n = Math.max(1, Number(workers));
    await Promise.all([
      stateRun(),
      ...Array.from({ length: Math.min(n, probes.length) }, async (_, k) => {
        for (let i = k; i < probes.length; i += n) await one(probes[i]!, i);
      }),
    ]);
    parts.sort((a, b) => (a.startsWith("@@state") ? -1 : b.startsWith("@@state") ? 1 : 0));
    return ok(`${parts.join("")}@@done ${stamp()}\n`);
  }

  async createContainer(spec: HelperSpec): Promise<string> {
    await this.gate();
    const id = `helper-${this.created.length}`;
    this.created.push({ id, spec });
    return id;
  }
  async startContainer(): Promise<void> {
    await this.gate();
  }
  async removeContainer(id: string): Promise<void> {
    this.removed.push(id);
  }
  close(): void {
    this.closed = true;
  }
}

// ---- A simulated lab: the default netns plan's hosts answering like busybox/dockerd do ----------

export interface WorldOptions {
  /** Whether a ping from `from` (container name, or "host:<name>") reaches ip. Default: everything but a host's own macvlan child. */
  reach?: (from: string, ip: string) => boolean;
  /** Extra delay of every exec (ms). */
  execDelayMs?: number;
  /** Containers that are stopped. */
  stopped?: string[];
  /** What scripts/verify/daemon-netns.sh prints on a host (default: daemonThreadsOutput() of a healthy daemon). */
  daemonThreads?: (host: string) => string;
}

/**
 * scripts/verify/daemon-netns.sh's output for a dockerd (pid 4242) in namespace 4026531001 with 5 threads
 * there and one in the live overlay sandbox 4026532100; `stuck` adds threads in a deleted namespace
 * (4026532999) at both looks, `leaving` one there only at the first look.
 */
export function daemonThreadsOutput(o: { stuck?: number; leaving?: number } = {}): string {
  const first = ["@s1 4242 4026531001", "@s1 4243 4026531001", "@s1 4244 4026531001", "@s1 4245 4026531001", "@s1 4246 4026531001"];
  first.push("@s1 4250 4026532100");
  const second: string[] = [];
  for (let i = 0; i < (o.stuck ?? 0); i++) {
    first.push(`@s1 ${4260 + i} 4026532999`);
    second.push(`@s2 ${4260 + i} 4026532999`);
  }
  if (o.leaving) first.push("@s1 4270 4026532998");
  const head = ["@pid 4242", "@own 4026531001", "@live 4026532100 1-6f765f6e65", "@live 4026532200 0123456789ab"];
  const again =
    second.length || o.leaving
      ? [...first.map((l) => l.replace("@s1", "@s2")).filter((l) => !/ 427\d /.test(l) && !/ 426\d /.test(l)), ...second]
      : [];
  return `${[...head, ...first, ...again].join("\n")}\n`;
}

export interface World {
  engines: Map<string, FakeEngine>;
  /** Pings that were answered, in order (vxlan counters grow with them). */
  pings: { from: string; target: string; at: number }[];
}

const GWBRIDGE = "198.19.128.0/24";

export function busyboxPing(target: string, ip: string | undefined, reply: boolean): ExecResult {
  if (ip === undefined) return { exitCode: 1, stdout: "", stderr: `ping: bad address '${target}'\n` };
  const head = `PING ${target} (${ip}): 56 data bytes\n`;
  if (!reply) return failed(`${head}\n--- ${target} ping statistics ---\n1 packets transmitted, 0 packets received, 100% packet loss\n`);
  return ok(
    `${head}64 bytes from ${ip}: seq=0 ttl=64 time=0.412 ms\n\n--- ${target} ping statistics ---\n1 packets transmitted, 1 packets received, 0% packet loss\nround-trip min/avg/max = 0.412/0.412/0.412 ms\n`,
  );
}

export function procNetDev(devs: Record<string, [number, number]>): string {
  const head =
    "Inter-|   Receive                                                |  Transmit\n" +
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n";
  return (
    head +
    Object.entries(devs)
      .map(([n, [rx, tx]]) => `${n.padStart(6)}: ${rx * 98} ${rx} 0 0 0 0 0 0 ${tx * 98} ${tx} 0 0 0 0 0 0`)
      .join("\n") +
    "\n"
  );
}

export function makeWorld(plan: LabPlan, o: WorldOptions = {}): World {
  const pings: World["pings"] = [];
  const engines = new Map<string, FakeEngine>();
  const ipOf = new Map<string, string>(); // container name -> first IP
  const macvlanHost = new Map<string, string>(); // macvlan child IP -> its host
  for (const w of plan.workloads) {
    ipOf.set(w.name, w.attachments[0]!.ipv4);
    for (const a of w.attachments) {
      const net = plan.networks.find((n) => n.name === a.network);
      if (net?.driver === "macvlan") macvlanHost.set(a.ipv4, w.host);
    }
  }
  const reach =
    o.reach ?? ((from: string, ip: string): boolean => !(from.startsWith("host:") && macvlanHost.get(ip) === from.slice("host:".length)));
  for (const h of plan.hosts) {
    const hostPings = (): number =>
      pings.filter((p) => p.from === `host:${h.name}` || plan.workloads.some((w) => w.name === p.from && w.host === h.name)).length;
    const e = new FakeEngine(h.endpoint, async (ctr, cmd) => {
      if (o.execDelayMs) await sleep(o.execDelayMs);
      const helper = ctr.startsWith("helper-");
      const from = helper ? `host:${h.name}` : ctr;
      const [c0] = cmd;
      if (cmd[3] === "dnlab-daemon-netns") return ok(o.daemonThreads ? o.daemonThreads(h.name) : daemonThreadsOutput());
      if (c0 === "ping") {
        const target = cmd[cmd.length - 1]!;
        const ip = /^[\d.]+$/.test(target) ? target : ipOf.get(target);
        const r = ip !== undefined && reach(from, ip);
        if (r) pings.push({ from, target, at: performance.now() });
        return busyboxPing(target, ip, r);
      }
      if (c0 === "nslookup") {
        const ip = ipOf.get(cmd[1]!);
        const head = "Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\n";
        return ip
          ? ok(`${head}Non-authoritative answer:\nName:\t${cmd[1]}\nAddress: ${ip}\n\n`)
          : failed(`${head}** server can't find ${cmd[1]}: NXDOMAIN\n`);
      }
      if (c0 === "sh") {
        const w = plan.workloads.find((x) => x.name === ctr)!;
        const overlay = w.attachments.some((a) => plan.networks.find((n) => n.name === a.network)?.driver === "overlay");
        const route = overlay
          ? `default via 198.19.128.1 dev eth1 \n${w.attachments[0]!.ipv4.replace(/\.\d+$/, ".0")}/24 dev eth0 scope link  src ${w.attachments[0]!.ipv4}\n198.19.128.0/24 dev eth1 scope link  src 198.19.128.2\n`
          : `default via 198.18.0.1 dev eth0 \n198.18.0.0/24 dev eth0 scope link  src ${w.attachments[0]!.ipv4}\n`;
        const addrs = [`1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever`];
        addrs.push(
          ...w.attachments.map((a, i) => `${5 + i}: eth${i}    inet ${a.ipv4}/24 brd x scope global eth${i}\\       valid_lft forever`),
        );
        if (overlay)
          addrs.push(
            `9: eth${w.attachments.length}    inet 198.19.128.2/24 brd 198.19.128.255 scope global eth${w.attachments.length}\\       valid_lft forever`,
          );
        const links = w.attachments.map(
          (_, i) =>
            `${5 + i}: eth${i}@if6: <BROADCAST,UP> mtu 1450 qdisc noqueue \\    link/ether 02:42:00:00:00:0${i + 1} brd ff:ff:ff:ff:ff:ff`,
        );
        return ok(`${route}@@\n${addrs.join("\n")}\n@@\n${links.join("\n")}\n`);
      }
      if (c0 === "ls") {
        // A stale file of an earlier sandbox (epoch 1) next to the live one (epoch 2), and a container sandbox.
        const ids = plan.networks.filter((n) => n.driver === "overlay").map((n) => Buffer.from(n.name).toString("hex").slice(0, 10));
        return ok(`${["0123456789ab", ...ids.flatMap((id) => [`1-${id}`, `2-${id}`])].join("\n")}\n`);
      }
      if (c0 === "nsenter") {
        if (!/^--net=\/netns\/2-/.test(cmd[1]!)) return failed("nsenter: setns(): can't reassociate to namespace 'net': Invalid argument");
        const n = 3 + hostPings(); // 3: traffic from before this run (counters are cumulative)
        return ok(procNetDev({ lo: [0, 0], br0: [n, n], vxlan0: [n, n], veth0: [n, n] }));
      }
      if (c0 === "timeout" && cmd.includes("wget")) {
        return ok(JSON.stringify({ node: { value: JSON.stringify({ subnets: [{ SubnetIP: "198.18.100.0/24", Vni: 256 }] }) } }));
      }
      if (c0 === "cat") return ok(procNetDev({ lo: [1, 1], eth0: [5, 5] }));
      return failed(`sh: ${c0}: not found`, 127);
    });
    for (const w of plan.workloads.filter((x) => x.host === h.name)) {
      e.containers.set(
        w.name,
        container(w.name, Object.fromEntries(w.attachments.map((a) => [a.network, { ip: a.ipv4 }])), !(o.stopped ?? []).includes(w.name)),
      );
    }
    for (const n of plan.networks) e.networks.set(n.name, network(n.name, n.driver, n.subnet));
    e.networks.set("docker_gwbridge", network("docker_gwbridge", "bridge", GWBRIDGE));
    engines.set(h.name, e);
  }
  return { engines, pings };
}
