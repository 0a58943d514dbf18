import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { checkCount, type HostPlan, type LabPlan, readsKvRegistrations } from "../src/model/index.js";
import type { LabSteps } from "../src/stack/steps.js";
import { DockerHost, type DockerHostArgs, sshOptsOf } from "./dockerHost.js";
import { Fault } from "./fault.js";
import { KvRegistrations } from "./kvRegistrations.js";
import { KvServer } from "./kvServer.js";
import { LabTls } from "./labTls.js";
import { MacvlanNetwork } from "./macvlanNetwork.js";
import { OverlayNetwork } from "./overlayNetwork.js";
import type { Connection } from "./runStep.js";
import { SwarmCluster } from "./swarmCluster.js";
import { UnderlayNetwork, type UnderlayNetworkArgs } from "./underlayNetwork.js";
import { Verification } from "./verification.js";
import { Workload } from "./workload.js";

export interface NetworkLabArgs {
  plan: LabPlan;
  steps: LabSteps;
  /** ssh hosts: private keys by secret config name (values are Pulumi secrets). */
  sshKeys?: Record<string, pulumi.Output<string>>;
}

/**
 * The whole lab: underlay -> KV store -> hosts (daemons configured once the KV is healthy) ->
 * [swarm] -> overlay and macvlan networks -> workloads -> verification.
 */
export class NetworkLab extends pulumi.ComponentResource {
  readonly underlay: UnderlayNetwork;
  /** dind: the CA, the client and the hosts' server certificates of the hosts' TLS APIs. */
  readonly tls?: LabTls;
  readonly kv?: KvServer;
  readonly hosts: DockerHost[] = [];
  readonly swarm?: SwarmCluster;
  readonly overlays: OverlayNetwork[] = [];
  readonly macvlans: MacvlanNetwork[] = [];
  readonly workloads: Workload[] = [];
  readonly kvRegistrations?: KvRegistrations;
  readonly faults: Fault[] = [];
  readonly verification?: Verification;

  private readonly labName: string;
  private readonly plan: LabPlan;
  private readonly steps: LabSteps;

  constructor(name: string, args: NetworkLabArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:index:NetworkLab", name, {}, opts);
    this.labName = name;
    this.plan = args.plan;
    this.steps = args.steps;
    const { plan } = args;
    if (args.steps.kind === "dind") this.tls = new LabTls(`${name}-tls`, { plan, steps: args.steps.tls }, { parent: this });

    this.underlay = new UnderlayNetwork(`${name}-underlay`, this.underlayArgs(), { parent: this });
    // The KV store comes first unless it runs on an ssh host, whose engine must exist first.
    const kvOnHost = plan.kv?.provision === "host-container";
    if (!kvOnHost) this.kv = this.kvServer();
    else this.kv = this.kvOnFirstHost();
    const connections = this.connections(args.sshKeys ?? {});
    this.hosts.push(...this.dockerHosts(connections));

    let networksAfter: pulumi.Resource[];
    if (plan.overlayMode === "swarm") {
      if (!args.steps.swarm) throw new Error("swarm mode needs its init/join steps");
      this.swarm = new SwarmCluster(`${name}-swarm`, { plan, hosts: this.hosts, steps: args.steps.swarm, connections }, { parent: this });
      networksAfter = this.swarm.ready;
    } else {
      // Classic overlay: every daemon must be registered in the KV before the network spans them.
      networksAfter = this.hosts.map((h) => h.daemon);
    }
    this.networks(networksAfter);
    this.workloads.push(...this.containers());

    const containers = this.workloads.map((w) => w.container);
    if (plan.kv && readsKvRegistrations(plan)) {
      this.kvRegistrations = new KvRegistrations(
        `${name}-kv-registrations`,
        { plan, kv: plan.kv, after: [...this.overlays.map((o) => o.network), ...containers] },
        { parent: this },
      );
    }
    // The faults break the lab once it exists: after its containers (and Consul's records of them).
    this.faults.push(...this.faultResources(connections, [...containers, ...(this.kvRegistrations ? [this.kvRegistrations] : [])]));
    if (plan.verification.enabled && args.steps.verify && checkCount(plan.checks) > 0) {
      const subjects: pulumi.CustomResource[] = [
        ...this.overlays.map((o) => o.network),
        ...this.macvlans.flatMap((m) => Object.values(m.perHost)),
        ...containers,
      ];
      this.verification = new Verification(
        `${name}-verify`,
        { plan, step: args.steps.verify, subjects, after: this.faults },
        { parent: this },
      );
    }
    this.registerOutputs({});
  }

  private underlayArgs(): UnderlayNetworkArgs {
    const { plan, steps } = this;
    switch (steps.kind) {
      case "netns":
        return { plan, kind: "netns", netnsSwitch: steps.netns.switch, netnsNeighbours: steps.netns.neighbours };
      case "dind":
      case "ssh":
        return { plan, kind: steps.kind };
    }
  }

  /** The store on the user's engine (dind), in its namespace (netns), or nowhere (external, swarm). */
  private kvServer(): KvServer | undefined {
    const { plan, steps } = this;
    const kv = plan.kv;
    if (!kv) return undefined;
    const name = `${this.labName}-kv`;
    const opts = { parent: this, dependsOn: this.underlay.ready };
    const underlayReady = this.underlay.ready;
    switch (kv.provision) {
      case "local-container":
        return new KvServer(name, { plan, kv, provision: "local-container", underlayReady }, opts);
      case "netns": {
        if (steps.kind !== "netns" || !steps.netns.kv) throw new Error(`lab ${plan.name}: a netns KV store needs its bring-up step`);
        return new KvServer(name, { plan, kv, provision: "netns", netnsStep: steps.netns.kv, underlayReady }, opts);
      }
      case "external":
        return new KvServer(name, { plan, kv, provision: "external" }, opts);
      case "host-container":
        throw new Error("a KV store on a lab host is made by kvOnFirstHost");
    }
  }

  /** The article's way: Consul with host networking on the first host, before any daemon points at it. */
  private kvOnFirstHost(): KvServer {
    const { plan } = this;
    const kv = plan.kv!;
    const runsOn = plan.hosts.find((h) => h.name === kv.runsOn);
    if (!runsOn) throw new Error(`KV host ${kv.runsOn} is not a lab host`);
    const bootstrap = new docker.Provider(
      `${this.labName}-kv-host-provider`,
      { host: runsOn.endpoint, disableDockerDaemonCheck: true, ...sshOptsOf(runsOn) },
      { parent: this },
    );
    return new KvServer(`${this.labName}-kv`, { plan, kv, provision: "host-container", hostProvider: bootstrap }, { parent: this });
  }

  /** One resource per fault of the plan, on its host. */
  private faultResources(connections: Record<string, Connection>, after: pulumi.Resource[]): Fault[] {
    const { plan, steps } = this;
    return plan.faults.map((fault) => {
      const step = steps.faults[fault.name];
      const host = this.hosts.find((h) => h.name === fault.host);
      if (!step || !host) throw new Error(`lab ${plan.name}: fault ${fault.name} has no step or no host`);
      const connection = connections[fault.host];
      return new Fault(
        `${this.labName}-fault-${fault.name}`,
        { plan, fault, step, host, after, ...(connection ? { connection } : {}) },
        { parent: this },
      );
    });
  }

  /** ssh hosts: how the command provider reaches each (the key is a secret). */
  private connections(sshKeys: Record<string, pulumi.Output<string>>): Record<string, Connection> {
    const connections: Record<string, Connection> = {};
    for (const host of this.plan.hosts) {
      if (!host.ssh) continue;
      const key = sshKeys[host.ssh.privateKeySecret];
      if (!key) throw new Error(`ssh host ${host.name}: secret ${host.ssh.privateKeySecret} was not provided`);
      connections[host.name] = { host: host.address, port: host.ssh.port, user: host.ssh.user, privateKey: key };
    }
    return connections;
  }

  private dockerHosts(connections: Record<string, Connection>): DockerHost[] {
    const { plan } = this;
    // dind hosts all run on the user's engine: one image resource serves them all. Images stay on
    // destroy (keepLocally): the provider cannot tell an image it pulled from one the engine already had,
    // and removing the user's images is not the lab's to do (nor re-pullable without a registry).
    // An image already on the engine is used as it is, never pulled again: lab:images may name images
    // that no registry serves (built or loaded for an air gap).
    const dindImage =
      plan.images.dind !== undefined
        ? new docker.RemoteImage(`${this.labName}-dind-image`, { name: plan.images.dind, keepLocally: true }, { parent: this })
        : undefined;
    // A KV container on a lab host stops while that host's daemon restarts with the lab's settings, and
    // daemons restarted meanwhile start with discovery errors: they find each other only at a later
    // heartbeat, after the containers exist, and the overlay then carries nothing between them. So the
    // KV host's daemon is configured first (its step waits until the KV store lists it again), and the
    // other daemons start against a store that answers.
    const kvHostName = plan.kv?.provision === "host-container" ? plan.kv.runsOn : undefined;
    const byName = new Map<string, DockerHost>();
    const order = [...plan.hosts].sort((a, b) => Number(b.name === kvHostName) - Number(a.name === kvHostName));
    for (const host of order) {
      const kvHost = kvHostName !== undefined && host.name !== kvHostName ? byName.get(kvHostName) : undefined;
      const after = [...this.underlay.ready, ...(this.kv?.ready ?? []), ...(kvHost ? [kvHost.daemon] : [])];
      const args = this.hostArgs(host, after, dindImage, connections);
      byName.set(host.name, new DockerHost(`${this.labName}-${host.name}`, args, { parent: this }));
    }
    return plan.hosts.map((h) => byName.get(h.name)!);
  }

  private hostArgs(
    host: HostPlan,
    after: pulumi.Resource[],
    dindImage: docker.RemoteImage | undefined,
    connections: Record<string, Connection>,
  ): DockerHostArgs {
    const { plan, steps } = this;
    const common = { plan, host, after };
    const missing = (what: string): never => {
      throw new Error(`lab ${plan.name}: host ${host.name} (${host.kind}) has no ${what}`);
    };
    switch (steps.kind) {
      case "dind":
        return {
          ...common,
          kind: "dind",
          dindImage: dindImage ?? missing("dind image"),
          tls: this.tls?.forHost(host.name) ?? missing("TLS material"),
        };
      case "netns": {
        const s = steps.netns.hosts[host.name] ?? missing("bring-up step");
        return { ...common, kind: "netns", netnsStep: s.up, netnsImageStep: s.image };
      }
      case "ssh":
        return {
          ...common,
          kind: "ssh",
          sshDaemonStep: steps.sshDaemon[host.name] ?? missing("daemon step"),
          connection: connections[host.name] ?? missing("ssh connection"),
        };
    }
  }

  /** Overlays on their creator (after `after`: every daemon registered, or the swarm formed), macvlans on every host. */
  private networks(after: pulumi.Resource[]): void {
    for (const net of this.plan.networks) {
      const name = `${this.labName}-${net.name}`;
      if (net.driver === "overlay") {
        this.overlays.push(new OverlayNetwork(name, { plan: this.plan, network: net, hosts: this.hosts, after }, { parent: this }));
      } else {
        this.macvlans.push(new MacvlanNetwork(name, { network: net, hosts: this.hosts }, { parent: this }));
      }
    }
  }

  private containers(): Workload[] {
    // One image per host and image name: pulled through the host's provider, or built locally (netns).
    const images = new Map<string, { image: pulumi.Input<string>; after: pulumi.Resource[] }>();
    const imageOn = (host: DockerHost, image: string) => {
      const key = `${host.name}/${image}`;
      let found = images.get(key);
      if (!found) {
        if (host.image) found = { image, after: [host.image] };
        else {
          const pulled = new docker.RemoteImage(
            `${this.labName}-${host.name}-${image.replace(/[^A-Za-z0-9]+/g, "-")}`,
            { name: image, keepLocally: true },
            { parent: host, provider: host.provider },
          );
          found = { image: pulled.imageId, after: [] };
        }
        images.set(key, found);
      }
      return found;
    };
    return this.plan.workloads.map((w) => {
      const host = this.hosts.find((h) => h.name === w.host)!;
      const { image, after } = imageOn(host, w.image);
      const networks = w.attachments.flatMap((a) => {
        const net =
          this.overlays.find((o) => o.name === a.network)?.network ?? this.macvlans.find((m) => m.name === a.network)?.perHost[w.host];
        return net ? [net] : [];
      });
      return new Workload(`${this.labName}-${w.name}`, { workload: w, host, image, networks, after }, { parent: this });
    });
  }
}
