import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { LabPlan } from "../src/model/index.js";
import type { DockerHost } from "./dockerHost.js";
import { type Connection, runStep } from "./runStep.js";
import type { SwarmSteps } from "../src/stack/steps.js";

export interface SwarmClusterArgs {
  plan: LabPlan;
  hosts: DockerHost[];
  steps: SwarmSteps;
  /** ssh hosts: how to reach them (their swarm steps run on the host). */
  connections?: Record<string, Connection>;
}

/**
 * Swarm mode for Docker 23+ (where --cluster-store is gone): `swarm init` on the manager with the
 * model's address pool, `swarm join` on the others with the worker token (a secret), `swarm leave`
 * on destroy. Overlay networks are created after every node has joined.
 */
export class SwarmCluster extends pulumi.ComponentResource {
  readonly init: command.local.Command | command.remote.Command;
  readonly joins: (command.local.Command | command.remote.Command)[] = [];
  readonly joinToken: pulumi.Output<string>;
  readonly manager: string;

  constructor(name: string, args: SwarmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:swarm:SwarmCluster", name, {}, opts);
    const { plan, steps } = args;
    if (!plan.swarm) throw new Error("SwarmCluster needs a swarm-mode plan");
    this.manager = plan.swarm.manager;
    const manager = args.hosts.find((h) => h.name === plan.swarm?.manager);
    if (!manager) throw new Error(`swarm manager ${plan.swarm.manager} is not a lab host`);
    const conn = (host: string) => args.connections?.[host];
    this.init = runStep(`${name}-init`, steps.init, steps.init.create, { parent: this, dependsOn: [manager.daemon] }, conn(manager.name));
    // init prints only the token; it never appears in plain outputs.
    this.joinToken = pulumi.secret(this.init.stdout.apply((out) => out.trim().split("\n").pop() ?? ""));
    for (const h of args.hosts) {
      if (h === manager) continue;
      const step = steps.join[h.name];
      if (!step) throw new Error(`no swarm join step for ${h.name}`);
      const remote = step.where === "remote";
      const create = remote ? this.joinToken.apply((t) => step.create.split(steps.tokenPlaceholder).join(t)) : step.create;
      const env = remote ? undefined : { ...(step.environment ?? {}), SWARM_JOIN_TOKEN: this.joinToken };
      this.joins.push(
        runStep(`${name}-join-${h.name}`, step, create, { parent: this, dependsOn: [h.daemon, this.init] }, conn(h.name), env),
      );
    }
    this.registerOutputs({ manager: this.manager, joinToken: this.joinToken });
  }

  /** Every node is in the swarm once these exist. */
  get ready(): pulumi.Resource[] {
    return [this.init, ...this.joins];
  }
}
