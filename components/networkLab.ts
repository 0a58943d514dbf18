import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { checkCount, type LabPlan, readsKvRegistrations } from "../src/model/index.js";
import { DockerHost, sshOptsOf } from "./dockerHost.js";
import { KvRegistrations } from "./kvRegistrations.js";
import { KvServer } from "./kvServer.js";
import { LabTls } from "./labTls.js";
import { MacvlanNetwork } from "./macvlanNetwork.js";
import { OverlayNetwork } from "./overlayNetwork.js";
import type { Connection } from "./runStep.js";
import type { LabSteps } from "../src/stack/steps.js";
import { SwarmCluster } from "./swarmCluster.js";
import { UnderlayNetwork } from "./underlayNetwork.js";
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
  readonly verification?: Verification;

  constructor(name: string, args: NetworkLabArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:index:NetworkLab", name, {}, opts);
    const { plan, steps } = args;
    const parent = { parent: this };
    const netns = steps.netns;
    if (plan.hostKind === "netns" && !netns) throw new Error("netns labs need their bring-up steps");
    if (plan.tls && !steps.tls) throw new Error("dind labs need their TLS steps");
    if (steps.tls) this.tls = new LabTls(`${name}-tls`, { plan, steps: steps.tls }, parent);

    this.underlay = new UnderlayNetwork(
      `${name}-underlay`,
      { plan, ...(netns ? { netnsSwitch: netns.switch, netnsNeighbours: netns.neighbours } : {}) },
      parent,
    );

    // The KV store comes first unless it runs on an ssh host, whose engine must exist first.
    const kvOnHost = plan.kv?.provision === "host-container";
    if (plan.kv && !kvOnHost) {
      this.kv = new KvServer(
        `${name}-kv`,
        {
          plan,
          kv: plan.kv,
          ...(this.underlay.network ? { underlay: this.underlay.network } : {}),
          ...(netns?.kv ? { netnsStep: netns.kv } : {}),
          underlayReady: this.underlay.ready,
        },
        { parent: this, dependsOn: this.underlay.ready },
      );
    }
    let kvReady: pulumi.Resource[] = this.kv ? this.kv.ready : [];
    if (plan.kv && kvOnHost) {
      const runsOn = plan.hosts.find((h) => h.name === plan.kv?.runsOn);
      if (!runsOn) throw new Error(`KV host ${plan.kv.runsOn} is not a lab host`);
      // The article's way: consul with host networking on the first host, before any daemon points at it.
      const bootstrap = new docker.Provider(
        `${name}-kv-host-provider`,
        { host: runsOn.endpoint, disableDockerDaemonCheck: true, ...sshOptsOf(runsOn) },
        parent,
      );
      this.kv = new KvServer(`${name}-kv`, { plan, kv: plan.kv, hostProvider: bootstrap }, parent);
      kvReady = this.kv.ready;
    }

    // dind hosts all run on the user's engine: one image resource serves them all. Images stay on
    // destroy (keepLocally): the provider cannot tell an image it pulled from one the engine already had,
    // and removing the user's images is not the lab's to do (nor re-pullable without a registry).
    // An image already on the engine is used as it is, never pulled again: lab:images may name images
    // that no registry serves (built or loaded for an air gap).
    const dindImage =
      plan.images.dind !== undefined
        ? new docker.RemoteImage(`${name}-dind-image`, { name: plan.images.dind, keepLocally: true }, parent)
        : undefined;
    const connections: Record<string, Connection> = {};
    for (const host of plan.hosts) {
      if (!host.ssh) continue;
      const key = args.sshKeys?.[host.ssh.privateKeySecret];
      if (!key) throw new Error(`ssh host ${host.name}: secret ${host.ssh.privateKeySecret} was not provided`);
      connections[host.name] = { host: host.address, port: host.ssh.port, user: host.ssh.user, privateKey: key };
    }
    // A KV container on a lab host stops while that host's daemon restarts with the lab's settings, and
    // daemons restarted meanwhile start with discovery errors: they find each other only at a later
    // heartbeat, after the containers exist, and the overlay then carries nothing between them. So the
    // KV host's daemon is configured first (its step waits until the KV store lists it again), and the
    // other daemons start against a store that answers.
    const kvHostName = kvOnHost ? plan.kv?.runsOn : undefined;
    const byName = new Map<string, DockerHost>();
    const order = [...plan.hosts].sort((a, b) => Number(b.name === kvHostName) - Number(a.name === kvHostName));
    for (const host of order) {
      const connection = connections[host.name];
      const hostNetns = netns ? { netnsStep: netns.hosts[host.name]!, netnsImageStep: netns.images[host.name]! } : {};
      const sshStep = steps.sshDaemon?.[host.name];
      const kvHost = kvHostName !== undefined && host.name !== kvHostName ? byName.get(kvHostName) : undefined;
      byName.set(
        host.name,
        new DockerHost(
          `${name}-${host.name}`,
          {
            plan,
            host,
            after: [...this.underlay.ready, ...kvReady, ...(kvHost ? [kvHost.daemon] : [])],
            ...(this.underlay.network ? { underlay: this.underlay.network } : {}),
            ...(dindImage ? { dindImage } : {}),
            ...(this.tls ? { tls: this.tls.forHost(host.name) } : {}),
            ...hostNetns,
            ...(sshStep ? { sshDaemonStep: sshStep } : {}),
            ...(connection ? { connection } : {}),
          },
          parent,
        ),
      );
    }
    this.hosts.push(...plan.hosts.map((h) => byName.get(h.name)!));

    let networksAfter: pulumi.Resource[] = [];
    if (plan.overlayMode === "swarm") {
      if (!steps.swarm) throw new Error("swarm mode needs its init/join steps");
      this.swarm = new SwarmCluster(`${name}-swarm`, { plan, hosts: this.hosts, steps: steps.swarm, connections }, parent);
      networksAfter = this.swarm.ready;
    } else {
      // Classic overlay: every daemon must be registered in the KV before the network spans them.
      networksAfter = this.hosts.map((h) => h.daemon);
    }

    const overlayByName = new Map<string, OverlayNetwork>();
    const macvlanByName = new Map<string, MacvlanNetwork>();
    for (const net of plan.networks) {
      if (net.driver === "overlay") {
        const ov = new OverlayNetwork(`${name}-${net.name}`, { plan, network: net, hosts: this.hosts, after: networksAfter }, parent);
        this.overlays.push(ov);
        overlayByName.set(net.name, ov);
      } else {
        const mv = new MacvlanNetwork(`${name}-${net.name}`, { plan, network: net, hosts: this.hosts }, parent);
        this.macvlans.push(mv);
        macvlanByName.set(net.name, mv);
      }
    }

    // One image per host and image name: pulled through the host's provider, or built locally (netns).
    const images = new Map<string, { image: pulumi.Input<string>; after: pulumi.Resource[] }>();
    const imageOn = (host: DockerHost, image: string) => {
      const key = `${host.name}/${image}`;
      let found = images.get(key);
      if (!found) {
        if (host.image) found = { image, after: [host.image] };
        else {
          const pulled = new docker.RemoteImage(
            `${name}-${host.name}-${image.replace(/[^A-Za-z0-9]+/g, "-")}`,
            { name: image, keepLocally: true },
            { parent: host, provider: host.provider },
          );
          found = { image: pulled.imageId, after: [] };
        }
        images.set(key, found);
      }
      return found;
    };
    for (const w of plan.workloads) {
      const host = this.hosts.find((h) => h.name === w.host)!;
      const { image, after } = imageOn(host, w.image);
      const nets: Record<string, docker.Network> = {};
      for (const a of w.attachments) {
        const net = overlayByName.get(a.network)?.network ?? macvlanByName.get(a.network)?.perHost[w.host];
        if (net) nets[a.network] = net;
      }
      this.workloads.push(new Workload(`${name}-${w.name}`, { workload: w, host, image, networks: nets, after }, parent));
    }

    const containers = this.workloads.map((w) => w.container);
    if (plan.kv && readsKvRegistrations(plan)) {
      this.kvRegistrations = new KvRegistrations(
        `${name}-kv-registrations`,
        { plan, kv: plan.kv, after: [...this.overlays.map((o) => o.network), ...containers] },
        parent,
      );
    }
    if (plan.verification.enabled && steps.verify && checkCount(plan.checks) > 0) {
      const subjects: pulumi.CustomResource[] = [
        ...this.overlays.map((o) => o.network),
        ...this.macvlans.flatMap((m) => Object.values(m.perHost)),
        ...containers,
      ];
      this.verification = new Verification(`${name}-verify`, { plan, step: steps.verify, subjects }, parent);
    }
    this.registerOutputs({});
  }
}
