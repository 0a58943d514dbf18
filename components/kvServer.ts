import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type ContainerSpec, type KvPlan, kvContainerSpec, type LabPlan } from "../src/model/index.js";
import type { ShellStep } from "../src/stack/steps.js";
import { containerArgs } from "./dockerArgs.js";

/** What each way of running the store needs (kv.provision), so that a missing piece is a type error. */
export type KvServerArgs = { plan: LabPlan; kv: KvPlan } & (
  | {
      provision: "local-container";
      /** The underlay network on the user's engine: replacing it re-creates the server. */
      underlayReady: pulumi.Resource[];
    }
  | {
      provision: "host-container";
      /** The provider of the host that runs it (ssh kind, host networking as in the article). */
      hostProvider: docker.Provider;
    }
  | {
      provision: "netns";
      /** The step that starts the KV process in its namespace, and the switch it stands on. */
      netnsStep: ShellStep;
      underlayReady: pulumi.Resource[];
    }
  | { provision: "external" }
);

const TOKENS = { consul: "lab:kv:ConsulServer", etcd: "lab:kv:EtcdServer", zookeeper: "lab:kv:ZookeeperServer" } as const;

/**
 * The classic overlay's key-value store (Consul in the reference scenario). The daemons that use it
 * are configured only after it is healthy: containers are created with `wait: true` on their healthcheck.
 */
export class KvServer extends pulumi.ComponentResource {
  /** The URL handed to dockerd as --cluster-store. */
  readonly clusterStore: pulumi.Output<string>;
  /** Consul's HTTP API / UI as the user's machine reaches it (dind publishes it on 127.0.0.1 only). */
  readonly uiUrl: pulumi.Output<string>;
  /** Everything that must exist before a daemon points at the store. */
  readonly ready: pulumi.Resource[] = [];

  constructor(name: string, args: KvServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TOKENS[args.kv.kind], name, {}, opts);
    const { kv, plan } = args;
    let ui = `http://${kv.address}:${kv.port}`;
    // Fixed names: the old server goes before its replacement; it is re-created with the underlay it sits on.
    // A changed server is a new server (a bring-up step would otherwise re-run and find it up).
    const rebuilt = (underlayReady: pulumi.Resource[]) => ({
      deleteBeforeReplace: true,
      replaceWith: underlayReady,
      replaceOnChanges: ["*"],
    });
    // What both container placements share: the server, healthy before anything points at it.
    const container = (spec: ContainerSpec, provider: docker.Provider | undefined, underlayReady: pulumi.Resource[]): docker.Container => {
      const on = { parent: this, ...(provider ? { provider } : {}) };
      const image = new docker.RemoteImage(`${name}-image`, { name: spec.image, keepLocally: true }, on);
      const volumes = spec.mounts.map((m) => new docker.Volume(`${name}-data`, { name: m.volume }, { parent: this }));
      return new docker.Container(name, containerArgs(spec, image.imageId), {
        ...on,
        ...rebuilt(underlayReady),
        dependsOn: [...underlayReady, ...volumes],
      });
    };
    switch (args.provision) {
      case "local-container":
        this.ready.push(container(kvContainerSpec(plan, kv), undefined, args.underlayReady));
        ui = `http://127.0.0.1:${kv.port}`;
        break;
      case "host-container":
        this.ready.push(container(kvContainerSpec(plan, kv), args.hostProvider, []));
        break;
      case "netns":
        // The script returns only once the store answers (consul: a leader is elected).
        this.ready.push(
          new command.local.Command(
            name,
            { create: args.netnsStep.create, delete: args.netnsStep.delete },
            { parent: this, ...rebuilt(args.underlayReady) },
          ),
        );
        break;
      case "external":
        break;
    }
    this.clusterStore = pulumi.output(kv.url);
    this.uiUrl = pulumi.output(kv.kind === "consul" ? `${ui}/ui/` : ui);
    this.registerOutputs({ clusterStore: this.clusterStore, uiUrl: this.uiUrl });
  }
}
