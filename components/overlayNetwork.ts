import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type LabPlan, networkSpec, type OverlayNetworkPlan } from "../src/model/index.js";
import { networkArgs } from "./dockerArgs.js";
import type { DockerHost } from "./dockerHost.js";

export interface OverlayNetworkArgs {
  plan: LabPlan;
  network: OverlayNetworkPlan;
  hosts: DockerHost[];
  /** swarm mode: the overlay can only be created once every host has joined. */
  after?: pulumi.Resource[];
}

/**
 * A VXLAN overlay (ov_net1) created on one host. In kv mode the other daemons learn it through the
 * KV store, and the component reads it back through every other host's provider: an id that matches
 * proves the network really spans the hosts. In swarm mode it is attachable so standalone containers
 * on every node can join it.
 */
export class OverlayNetwork extends pulumi.ComponentResource {
  /** The network's name in the plan (ov_net1). */
  readonly name: string;
  readonly network: docker.Network;
  readonly id: pulumi.Output<string>;
  readonly subnet: pulumi.Output<string>;
  /** host name -> the network id that host reports. */
  readonly seenOn: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: OverlayNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:network:OverlayNetwork", name, {}, opts);
    const { network } = args;
    this.name = network.name;
    const creator = args.hosts.find((h) => h.name === network.createdOn);
    if (!creator) throw new Error(`overlay ${network.name}: unknown host ${network.createdOn}`);
    const spec = networkSpec(network, creator.name);
    this.network = new docker.Network(name, networkArgs(spec), {
      parent: this,
      provider: creator.provider,
      dependsOn: args.after ?? [],
      // Names are unique per daemon: the old network must go before its replacement exists.
      deleteBeforeReplace: true,
      replaceWith: [creator.daemon],
      // Swarm adds its own option (the VNI list) to what the daemon reports, so the provider would
      // see a change on every preview: our options are compared here instead, and a change replaces.
      ignoreChanges: ["options"],
      replacementTrigger: JSON.stringify(spec.options),
    });
    const views: Record<string, pulumi.Output<string>> = {};
    // A swarm worker lists a swarm network only once a local container has joined it, so in swarm
    // mode only the manager's view is read; the verification proves the other hosts.
    const readers = args.plan.overlayMode === "swarm" ? [creator] : args.hosts;
    for (const h of readers) {
      views[h.name] =
        h === creator
          ? this.network.id
          : docker.getNetworkOutput({ name: network.name }, { provider: h.provider, parent: this, dependsOn: [this.network] }).id;
    }
    this.id = this.network.id;
    this.subnet = pulumi.output(network.subnet);
    this.seenOn = pulumi.all(views);
    this.registerOutputs({ id: this.id, subnet: this.subnet, seenOn: this.seenOn });
  }
}
