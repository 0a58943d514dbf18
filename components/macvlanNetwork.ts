import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { LabPlan, MacvlanNetworkPlan } from "../src/model/index.js";
import type { DockerHost } from "./dockerHost.js";

export interface MacvlanNetworkArgs {
  plan: LabPlan;
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
    for (const r of network.ranges) {
      const host = args.hosts.find((h) => h.name === r.host);
      if (!host) throw new Error(`macvlan ${network.name}: unknown host ${r.host}`);
      const options: Record<string, string> = { parent: network.parent };
      if (network.mtu !== undefined) options["com.docker.network.driver.mtu"] = String(network.mtu);
      const net = new docker.Network(
        `${name}-${r.host}`,
        {
          name: network.name,
          driver: "macvlan",
          options,
          ipamConfigs: [{ subnet: network.subnet, gateway: network.gateway, ipRange: r.ipRange }],
        },
        // Names are unique per daemon; a re-created daemon has lost the network.
        { parent: this, provider: host.provider, deleteBeforeReplace: true, replaceWith: [host.daemon] },
      );
      this.perHost[r.host] = net;
      ids[r.host] = net.id;
    }
    this.ids = pulumi.all(ids);
    this.subnet = pulumi.output(network.subnet);
    this.registerOutputs({ ids: this.ids, subnet: this.subnet });
  }
}
