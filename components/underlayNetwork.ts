import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type LabPlan, underlayNetworkSpec } from "../src/model/index.js";
import type { ShellStep } from "../src/stack/steps.js";
import { networkArgs } from "./dockerArgs.js";

/** What the underlay needs per host kind (ssh: nothing, the network is the machines' own). */
export type UnderlayNetworkArgs = { plan: LabPlan } & (
  | { kind: "dind" }
  | {
      kind: "netns";
      /** The step that creates the switch namespace and its bridge. */
      netnsSwitch: ShellStep;
      /** The step that sizes the kernel's neighbour table for the lab's containers. */
      netnsNeighbours: ShellStep;
    }
  | { kind: "ssh" }
);

/**
 * The "physical" network the lab hosts share (the article's 172.17.0.0/24 LAN, here in 198.18.0.0/15).
 * dind: a bridge network on the user's engine; netns: a bridge in its own namespace; ssh: the real
 * network, which the stack does not create.
 */
export class UnderlayNetwork extends pulumi.ComponentResource {
  /** dind: the Docker network the host containers and the KV container attach to. */
  readonly network?: docker.Network;
  /** netns: the switch namespace command. */
  readonly switchCommand?: command.local.Command;
  /** netns: the lab's reservation in the kernel's neighbour table (re-run when the lab grows). */
  readonly neighbourTable?: command.local.Command;
  readonly subnet: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: UnderlayNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:network:UnderlayNetwork", name, {}, opts);
    const { plan } = args;
    let netName = "";
    switch (args.kind) {
      case "dind": {
        const spec = underlayNetworkSpec(plan);
        netName = spec.name;
        // Fixed name: the old network goes before its replacement.
        this.network = new docker.Network(name, networkArgs(spec), { parent: this, deleteBeforeReplace: true });
        break;
      }
      case "netns": {
        const n = args.netnsNeighbours;
        this.neighbourTable = new command.local.Command(
          `${name}-neighbours`,
          { create: n.create, update: n.create, delete: n.delete },
          { parent: this },
        );
        netName = plan.netns?.switchNamespace ?? "";
        this.switchCommand = new command.local.Command(
          name,
          { create: args.netnsSwitch.create, delete: args.netnsSwitch.delete },
          // Fixed namespace name: the old switch goes before its replacement; a changed switch is a new one.
          { parent: this, deleteBeforeReplace: true, replaceOnChanges: ["*"] },
        );
        break;
      }
      case "ssh":
        break;
    }
    this.subnet = pulumi.output(plan.underlay.subnet);
    this.name = pulumi.output(netName);
    this.registerOutputs({ subnet: this.subnet, name: this.name });
  }

  /** The resource later steps must wait for (none for ssh: the network is already there). */
  get ready(): pulumi.Resource[] {
    return [this.network, this.neighbourTable, this.switchCommand].filter((r): r is NonNullable<typeof r> => r !== undefined);
  }
}
