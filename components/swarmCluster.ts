import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { LabPlan } from "../src/model/index.js";
import type { DockerHost } from "./dockerHost.js";
import type { SwarmSteps } from "./steps.js";

export interface SwarmClusterArgs {
  plan: LabPlan;
  hosts: DockerHost[];
  steps: SwarmSteps;
}

/**
 * Swarm mode for Docker 23+ (where --cluster-store is gone): `swarm init` on the manager with the
 * model's address pool, `swarm join` on the others with the worker token (a secret), `swarm leave`
 * on destroy. Overlay networks are created after every node has joined.
 */
export class SwarmCluster extends pulumi.ComponentResource {
  readonly init: command.local.Command;
  readonly joins: command.local.Command[] = [];
  readonly joinToken: pulumi.Output<string>;
  readonly manager: string;

  constructor(name: string, args: SwarmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:swarm:SwarmCluster", name, {}, opts);
    const { plan, steps } = args;
    if (!plan.swarm) throw new Error("SwarmCluster needs a swarm-mode plan");
    this.manager = plan.swarm.manager;
    const manager = args.hosts.find((h) => h.name === plan.swarm?.manager);
    if (!manager) throw new Error(`swarm manager ${plan.swarm.manager} is not a lab host`);
    this.init = new command.local.Command(
      `${name}-init`,
      { create: steps.init.create, delete: steps.init.delete, ...(steps.init.environment ? { environment: steps.init.environment } : {}) },
      { parent: this, dependsOn: [manager.daemon], additionalSecretOutputs: ["stdout"] },
    );
    // The token is the last line the init step prints; it never appears in plain outputs.
    this.joinToken = pulumi.secret(this.init.stdout.apply((out) => out.trim().split("\n").pop() ?? ""));
    for (const h of args.hosts) {
      if (h === manager) continue;
      const step = steps.join[h.name];
      if (!step) throw new Error(`no swarm join step for ${h.name}`);
      this.joins.push(
        new command.local.Command(
          `${name}-join-${h.name}`,
          {
            create: step.create,
            delete: step.delete,
            environment: { ...(step.environment ?? {}), SWARM_JOIN_TOKEN: this.joinToken },
          },
          { parent: this, dependsOn: [h.daemon, this.init] },
        ),
      );
    }
    this.registerOutputs({ manager: this.manager, joinToken: this.joinToken });
  }

  /** Every node is in the swarm once these exist. */
  get ready(): pulumi.Resource[] {
    return [this.init, ...this.joins];
  }
}
