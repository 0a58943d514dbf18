import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type MacvlanNetworkPlan, networkSpec } from "../src/model/index.js";
import { networkArgs } from "./dockerArgs.js";
import type { DockerHost } from "./dockerHost.js";

export interface MacvlanNetworkArgs {
  network: MacvlanNetworkPlan;
  hosts: DockerHost[];
}

/**
 * mv_net1: a macvlan network created on every host over the parent interface (or its 802.1q
 * sub-interface, which Docker creates). Macvlan IPAM is local to each host, so each host gets its own
 * --ip-range from the model: otherwise two hosts would hand out the same first address.
 */
export class MacvlanNetwork extends pulumi.ComponentResource {
  /** The network's name in the plan (mv_net1). */
  readonly name: string;
  /** host name -> that host's network. */
  readonly perHost: Record<string, docker.Network> = {};
  readonly ids: pulumi.Output<Record<string, string>>;
  readonly subnet: pulumi.Output<string>;

  constructor(name: string, args: MacvlanNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:network:MacvlanNetwork", name, {}, opts);
    const { network } = args;
    this.name = network.name;
    const ids: Record<string, pulumi.Output<string>> = {};
    for (const host of args.hosts) {
      const net = new docker.Network(
        `${name}-${host.name}`,
        networkArgs(networkSpec(network, host.name)),
        // Names are unique per daemon; a re-created daemon has lost the network.
        { parent: this, provider: host.provider, deleteBeforeReplace: true, replaceWith: [host.daemon] },
      );
      this.perHost[host.name] = net;
      ids[host.name] = net.id;
    }
    this.ids = pulumi.all(ids);
    this.subnet = pulumi.output(network.subnet);
    this.registerOutputs({ ids: this.ids, subnet: this.subnet });
  }
}
