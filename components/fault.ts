import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { type FaultPlan, describeFault, type LabPlan } from "../src/model/index.js";
import type { ShellStep } from "../src/stack/steps.js";
import type { DockerHost } from "./dockerHost.js";
import type { Connection } from "./runStep.js";

export interface FaultArgs {
  plan: LabPlan;
  fault: FaultPlan;
  /** fault.sh apply (create and update) and remove (delete) on the fault's host. */
  step: ShellStep;
  /** The host the fault breaks: a new host means a new fault. */
  host: DockerHost;
  /** The lab as it must exist before anything of it is broken (its containers). */
  after: pulumi.Resource[];
  /** ssh hosts: how the command provider reaches the host. */
  connection?: Connection;
}

/**
 * One fault of lab:faults: applied on its host once the lab exists, updated in place when its settings
 * change (fault.sh puts back the old ones first), and removed on delete, the host restored exactly as
 * its record says. A fault moved to another host, or made another kind, is a new fault: the old one is
 * removed before it (deleteBeforeReplace), so the two never share the record on a host.
 */
export class Fault extends pulumi.ComponentResource {
  readonly run: command.local.Command | command.remote.Command;
  /** What the fault does, in words (the verification's reasons say the same). */
  readonly description: string;

  constructor(name: string, args: FaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:fault:Fault", name, {}, opts);
    const { fault, step } = args;
    this.description = describeFault(fault, args.plan);
    const inputs = {
      create: step.create,
      update: step.create,
      delete: step.delete,
      triggers: [fault.host, fault.kind],
    };
    const options: pulumi.CustomResourceOptions = {
      parent: this,
      dependsOn: args.after,
      deleteBeforeReplace: true,
      // A re-created host (or daemon) starts without the fault: it is applied again.
      replaceWith: [args.host.daemon],
    };
    if (step.where === "remote") {
      if (!args.connection) throw new Error(`fault ${fault.name} runs on ${fault.host} over ssh, but no connection was given`);
      // fault.sh never reads PULUMI_COMMAND_STDOUT; sending it makes sshd warn (AcceptEnv).
      this.run = new command.remote.Command(
        name,
        { connection: args.connection, ...inputs, addPreviousOutputInEnv: false },
        { ...options, additionalSecretOutputs: ["stdout"] },
      );
    } else {
      this.run = new command.local.Command(name, inputs, options);
    }
    this.registerOutputs({ description: this.description });
  }
}
