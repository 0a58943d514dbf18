// The lab's daemons as one verification run sees them: which answer, what their containers and
// networks look like (asked once per round and shared by every check), and the host-level helper
// containers the run starts on them and removes again.
import { dirname } from "node:path";
import type { ContainerInfo, DockerEngine, ExecResult, HelperSpec, NetworkInfo } from "../docker/api.js";
import { namedContainer } from "../docker/api.js";
import type { HostPlan, LabPlan } from "../model/index.js";
import { ProbeError } from "./result.js";

const HELPER_LABEL = "dnlab.verify";

export interface LabHostsOptions {
  /** Per call and for the helper's create/start. */
  checkTimeoutMs: number;
  /** Image of the helper container (default: the image of a workload on that host). */
  helperImage?: string;
  /** How long cleanup waits for a helper container still being created (default 5 s). */
  cleanupGraceMs?: number;
  /** Hosts whose helper needs the daemon's exec-root netns dir (they have vxlan checks in this run). */
  netnsHosts: ReadonlySet<string>;
}

/** "exited with code 137", "created", ...: a container's state in words. */
export function describeState(c: ContainerInfo): string {
  const s = c.State;
  return s.Status === "exited" && s.ExitCode !== undefined ? `exited with code ${s.ExitCode}` : s.Status;
}

export class LabHosts {
  private readonly hosts: Map<string, HostPlan>;
  private readonly containers = new Map<string, Promise<ContainerInfo | undefined>>();
  private readonly networks = new Map<string, Promise<NetworkInfo | undefined>>();
  private readonly reachable = new Map<string, Promise<string | undefined>>();
  private readonly helpers = new Map<string, Promise<string>>();
  private readonly helperNames = new Map<string, string>();

  constructor(
    private readonly plan: LabPlan,
    private readonly engines: ReadonlyMap<string, DockerEngine>,
    private readonly o: LabHostsOptions,
  ) {
    this.hosts = new Map(plan.hosts.map((h) => [h.name, h]));
  }

  /**
   * Forgets what containers and networks looked like: a settling round must see the lab as it is now
   * (a container created a moment ago may have had no address on its network yet).
   */
  forgetInspections(): void {
    this.containers.clear();
    this.networks.clear();
  }

  engine(host: string): DockerEngine {
    const e = this.engines.get(host);
    if (!e) throw new ProbeError(`no Docker endpoint for host ${host}`);
    return e;
  }

  private once<T>(cache: Map<string, Promise<T>>, key: string, fn: () => Promise<T>): Promise<T> {
    let p = cache.get(key);
    if (!p) {
      p = fn();
      cache.set(key, p);
      p.catch(() => undefined); // a rejected cache entry is reported by whoever awaits it
    }
    return p;
  }

  /** undefined when the host's daemon answers; otherwise why not. */
  private hostProblem(host: string): Promise<string | undefined> {
    return this.once(this.reachable, host, async () => {
      const e = this.engines.get(host);
      if (!e) return `no Docker endpoint for host ${host}`;
      try {
        await e.ping({ timeoutMs: 5_000 });
        return undefined;
      } catch (err) {
        return `host ${host}'s Docker endpoint ${e.endpoint} is unreachable: ${(err as Error).message}`;
      }
    });
  }

  /** The host's engine once its daemon answers; otherwise a ProbeError saying why not. */
  async requireHost(host: string): Promise<DockerEngine> {
    const problem = await this.hostProblem(host);
    if (problem) throw new ProbeError(problem);
    return this.engine(host);
  }

  /** The container of exactly that name (namedContainer: not one whose ID starts with it). */
  inspect(host: string, name: string): Promise<ContainerInfo | undefined> {
    return this.once(this.containers, `${host}/${name}`, async () =>
      namedContainer(await (await this.requireHost(host)).inspectContainer(name), name),
    );
  }

  /** The container, running; otherwise a ProbeError with a clear reason. */
  async running(host: string, name: string): Promise<ContainerInfo> {
    const c = await this.inspect(host, name);
    if (!c) throw new ProbeError(`container ${name} does not exist on ${host}`);
    if (!c.State.Running) throw new ProbeError(`container ${name} is not running (${describeState(c)})`);
    return c;
  }

  network(host: string, name: string): Promise<NetworkInfo | undefined> {
    return this.once(this.networks, `${host}/${name}`, async () => (await this.requireHost(host)).inspectNetwork(name));
  }

  /** The daemon's exec-root on a host (where its network namespaces live). */
  execRoot(host: string): string | undefined {
    return this.hosts.get(host)?.daemon.execRoot;
  }

  // ---- host-level helper container ----

  private helperImage(host: string): string {
    if (this.o.helperImage) return this.o.helperImage;
    const w = this.plan.workloads.find((x) => x.host === host) ?? this.plan.workloads[0];
    return w?.image ?? "busybox:latest";
  }

  /** A helper on the host's own network stack: host network, CAP_SYS_ADMIN for nsenter, the exec-root netns dir at /netns. */
  helper(host: string): Promise<string> {
    const execRoot = this.execRoot(host);
    return this.startHelper(host, "", {
      // Host network only. Not --pid host: nsenter --net=<file> does not need it, and a PID
      // namespace of its own keeps every signal the helper sends (busybox `timeout`) inside it.
      // --privileged is not used: on hosts whose capability bounding set lacks one cap runc refuses it;
      // nsenter --net only needs CAP_SYS_ADMIN.
      capAdd: ["SYS_ADMIN"],
      binds: this.o.netnsHosts.has(host) && execRoot ? [`${execRoot}/netns:/netns:ro`] : [],
    });
  }

  /**
   * The daemon-netns check's helper: the host's network and PID namespaces, so that it sees dockerd's
   * threads (/proc/<pid>/task) and which network namespace each is in. Reading another process's
   * namespaces is a ptrace read: CAP_SYS_PTRACE, and no AppArmor profile in between (Docker's default one
   * refuses it toward an unconfined dockerd). The exec-root's netns dir at /netns (the live sandboxes),
   * the pidfile's dir at /dnlab-pid (the dir, not the file: a bind of a missing file would create a
   * directory in its place). Its own container, apart from helper(): this one runs no `timeout`, so no
   * signal it sends can reach a host process.
   */
  daemonHelper(host: string): Promise<string> {
    const h = this.hosts.get(host);
    if (!h) return Promise.reject(new ProbeError(`no host ${host} in the plan`));
    return this.startHelper(host, "daemon", {
      pidMode: "host",
      capAdd: ["SYS_PTRACE"],
      securityOpt: ["apparmor=unconfined"],
      binds: [`${h.daemon.execRoot}/netns:/netns:ro`, `${dirname(h.daemon.pidFile)}:/dnlab-pid:ro`],
    });
  }

  /** A sleeping helper container on the host (host network), started once per run and kind. */
  private startHelper(host: string, kind: string, spec: Pick<HelperSpec, "pidMode" | "capAdd" | "securityOpt" | "binds">): Promise<string> {
    const key = kind ? `${kind}/${host}` : host;
    return this.once(this.helpers, key, async () => {
      const e = await this.requireHost(host);
      const lifetime = Math.ceil(this.o.checkTimeoutMs / 1000) * 4 + 120; // exits (and is auto-removed) even if we die
      const suffix = Math.random().toString(36).slice(2, 8);
      const name = `dnlab-verify-${host}${kind ? `-${kind}` : ""}-${suffix}`;
      this.helperNames.set(key, name);
      const id = await e.createContainer(
        {
          image: this.helperImage(host),
          cmd: ["sleep", String(lifetime)],
          name,
          labels: { [HELPER_LABEL]: this.plan.name },
          networkMode: "host",
          ...spec,
          autoRemove: true,
        },
        { timeoutMs: this.o.checkTimeoutMs },
      );
      try {
        await e.startContainer(id, { timeoutMs: this.o.checkTimeoutMs });
      } catch (err) {
        await e.removeContainer(id).catch(() => undefined);
        throw new ProbeError(`${kind ? `${kind} ` : ""}helper container on ${host} did not start: ${(err as Error).message}`);
      }
      return id;
    });
  }

  async execOnHost(host: string, cmd: string[], signal: AbortSignal): Promise<ExecResult> {
    const id = await this.helper(host);
    return this.engine(host).exec(id, cmd, { signal, timeoutMs: this.o.checkTimeoutMs });
  }

  /**
   * Removes the helper containers. Bounded: a daemon that hangs (e.g. waiting for its lost KV store)
   * must not hold the report; such a helper still exits and removes itself when its sleep ends.
   */
  async cleanup(): Promise<void> {
    await Promise.all(
      [...this.helpers].map(async ([key, p]) => {
        const host = key.includes("/") ? key.slice(key.indexOf("/") + 1) : key;
        // A create/start still pending on a hung daemon is not waited for: remove by name instead.
        // The grace timer is cleared once the helper answers: a pending timer would keep the process
        // alive for its full 5 s after the report is out.
        let grace: ReturnType<typeof setTimeout> | undefined;
        const id = await Promise.race([
          p.catch(() => undefined),
          new Promise<undefined>((r) => {
            grace = setTimeout(() => r(undefined), this.o.cleanupGraceMs ?? 5_000);
          }),
        ]).finally(() => clearTimeout(grace));
        const ref = id ?? this.helperNames.get(key);
        if (ref)
          await this.engine(host)
            .removeContainer(ref, { timeoutMs: 5_000 })
            .catch(() => undefined);
      }),
    );
  }
}
