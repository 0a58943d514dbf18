import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type WorkloadPlan, workloadSpec } from "../src/model/index.js";
import { containerArgs } from "./dockerArgs.js";
import type { DockerHost } from "./dockerHost.js";

export interface WorkloadArgs {
  workload: WorkloadPlan;
  host: DockerHost;
  /** The image on that host: a pulled RemoteImage (dind, ssh) or the name of a locally built one (netns). */
  image: pulumi.Input<string>;
  /** The networks the container attaches to, on its host. */
  networks: docker.Network[];
  /** Whatever else must exist first (a locally built image). */
  after?: pulumi.Resource[];
}

/** A busybox container of the scenario (test1, test2, test3) as the model's workloadSpec describes it. */
export class Workload extends pulumi.ComponentResource {
  readonly container: docker.Container;
  readonly host: string;
  readonly ips: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:workload:Workload", name, {}, opts);
    const { workload: w } = args;
    this.host = w.host;
    this.container = new docker.Container(name, containerArgs(workloadSpec(w), args.image), {
      parent: this,
      provider: args.host.provider,
      dependsOn: [...args.networks, ...(args.after ?? [])],
      // Container names are unique per daemon: the old container must go before its replacement.
      deleteBeforeReplace: true,
      // Docker cannot remove a network that still has endpoints, and a re-created daemon has no
      // containers: a replaced network or host daemon takes the container with it (the engine then
      // deletes the container before the network it is attached to).
      // Not the daemon of an overlay's creator on another host: the engine would delete this container
      // early through a provider it has not loaded yet ("unknown provider"); a daemon is re-created
      // only with the KV store or underlay, which takes every host (and so this one) anyway.
      replaceWith: [...args.networks, args.host.daemon],
    });
    this.ips = pulumi.output(Object.fromEntries(w.attachments.map((a) => [a.network, a.ipv4])));
    this.registerOutputs({ ips: this.ips, host: this.host });
  }
}
