// An in-memory Docker host for the inspect unit tests: version, /info, networks, containers, exec.
import type { InspectEngine } from "../../src/inspect/index.js";
import type { LabPlan } from "../../src/model/index.js";
import type { ContainerInfo, EngineInfo, ExecResult, NetworkInfo } from "../../src/docker/api.js";

export class InspectFake implements InspectEngine {
  readonly containers = new Map<string, ContainerInfo>();
  readonly networks: (NetworkInfo & { IPAM?: { Config?: { Subnet?: string; IPRange?: string }[] } })[] = [];
  readonly execs: { container: string; cmd: string[] }[] = [];
  info_: EngineInfo = {};
  unreachable?: string;
  execAnswer: (container: string, cmd: string[]) => ExecResult = () => ({ exitCode: 1, stdout: "", stderr: "" });
  closed = false;

  constructor(readonly endpoint: string) {}

  private gate(): void {
    if (this.unreachable) throw new Error(this.unreachable);
  }
  async version(): Promise<{ Version: string; ApiVersion: string }> {
    this.gate();
    return { Version: "20.10.24", ApiVersion: "1.41" };
  }
  async info(): Promise<EngineInfo> {
    this.gate();
    return this.info_;
  }
  async inspectContainer(name: string): Promise<ContainerInfo | undefined> {
    this.gate();
    return this.containers.get(name);
  }
  async listNetworks(): Promise<NetworkInfo[]> {
    this.gate();
    return this.networks;
  }
  async exec(container: string, cmd: string[]): Promise<ExecResult> {
    this.gate();
    this.execs.push({ container, cmd });
    return this.execAnswer(container, cmd);
  }
  close(): void {
    this.closed = true;
  }
}

export function runningContainer(name: string, ips: Record<string, string>, status = "running", exitCode?: number): ContainerInfo {
  return {
    Id: `${name}-id`.padEnd(64, "0"),
    Name: `/${name}`,
    State: { Status: status, Running: status === "running", ...(exitCode !== undefined ? { ExitCode: exitCode } : {}) },
    NetworkSettings: { Networks: Object.fromEntries(Object.entries(ips).map(([n, ip]) => [n, { NetworkID: `${n}-id`, IPAddress: ip }])) },
  };
}

/** Fakes holding exactly what the plan asks for (the lab "as planned"), kv mode on etcd or consul. */
export function fakesFor(plan: LabPlan): Map<string, InspectFake> {
  const fakes = new Map<string, InspectFake>();
  for (const h of plan.hosts) {
    const f = new InspectFake(h.endpoint);
    f.info_ = {
      Name: h.name,
      ServerVersion: "20.10.24",
      ClusterStore: h.daemon.clusterStore,
      ClusterAdvertise: h.daemon.clusterAdvertise,
      Swarm: { LocalNodeState: "inactive" },
      ContainersRunning: 1,
    };
    for (const n of plan.networks) {
      if (n.driver === "overlay") {
        f.networks.push({
          Name: n.name,
          Id: "a1b2c3d4e5f6".padEnd(64, "7"),
          Driver: "overlay",
          Scope: "global",
          IPAM: { Config: [{ Subnet: n.subnet }] },
          Options: {},
        });
      } else {
        const r = n.ranges.find((x) => x.host === h.name)!;
        f.networks.push({
          Name: n.name,
          Id: `${h.name}mv`.padEnd(64, "0"),
          Driver: "macvlan",
          Scope: "local",
          IPAM: { Config: [{ Subnet: n.subnet, IPRange: r.ipRange }] },
          Options: { parent: n.parent },
        });
      }
    }
    for (const w of plan.workloads.filter((x) => x.host === h.name)) {
      f.containers.set(w.name, runningContainer(w.name, Object.fromEntries(w.attachments.map((a) => [a.network, a.ipv4]))));
    }
    fakes.set(h.name, f);
  }
  return fakes;
}
