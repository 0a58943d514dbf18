import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { kvContainerSpec, type KvPlan, type LabPlan } from "../src/model/index.js";
import type { ShellStep } from "../src/stack/steps.js";

export interface KvServerArgs {
  plan: LabPlan;
  kv: KvPlan;
  /** local-container: the underlay network on the user's engine. */
  underlay?: docker.Network;
  /** host-container: the provider of the host that runs it (ssh kind, host networking as in the article). */
  hostProvider?: docker.Provider;
  /** netns: the step that starts the KV process in its namespace. */
  netnsStep?: ShellStep;
  /** What the server stands on (the underlay network or switch): replacing it re-creates the server. */
  underlayReady?: pulumi.Resource[];
}

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
    const spec = kvContainerSpec(kv);
    let ui = `http://${kv.address}:${kv.port}`;
    // What both container placements share: the server, healthy before anything points at it.
    // Fixed names: the old server goes before its replacement; it is re-created with the underlay it sits on.
    // A changed server is a new server (a bring-up step would otherwise re-run and find it up).
    const rebuilt = { deleteBeforeReplace: true, replaceWith: args.underlayReady ?? [], replaceOnChanges: ["*"] };
    const container = (provider: docker.Provider | undefined, placement: Partial<docker.ContainerArgs>): docker.Container => {
      const opts = { parent: this, ...(provider ? { provider } : {}) };
      const image = new docker.RemoteImage(`${name}-image`, { name: spec.image, keepLocally: true }, opts);
      return new docker.Container(
        name,
        {
          name: `${plan.name}-kv`,
          hostname: kv.nodeName,
          image: image.imageId,
          command: spec.command,
          envs: spec.env,
          healthcheck: { tests: spec.healthcheck, interval: "2s", timeout: "2s", retries: 30, startPeriod: "2s" },
          wait: true,
          waitTimeout: 120,
          restart: "unless-stopped",
          ...placement,
        },
        { ...opts, ...rebuilt },
      );
    };
    switch (kv.provision) {
      case "local-container": {
        if (!args.underlay) throw new Error("a local KV container needs the underlay network");
        const data = new docker.Volume(`${name}-data`, { name: `${plan.name}-kv-data` }, { parent: this });
        this.ready.push(
          container(undefined, {
            networksAdvanced: [{ name: args.underlay.name, ipv4Address: kv.address }],
            // The UI/API for the user, on loopback only (lab:kv.publishUi); the daemons use the lab address.
            // Whoever reaches it can rewrite Docker's network state: without it, only the lab's hosts can.
            ...(kv.published ? { ports: [{ internal: kv.port, external: kv.port, ip: "127.0.0.1" }] } : {}),
            mounts: [{ type: "volume", source: data.name, target: spec.dataDir }],
          }),
        );
        ui = `http://127.0.0.1:${kv.port}`;
        break;
      }
      case "host-container": {
        if (!args.hostProvider) throw new Error("a KV container on a host needs that host's provider");
        this.ready.push(container(args.hostProvider, { networkMode: "host" }));
        break;
      }
      case "netns": {
        if (!args.netnsStep) throw new Error("a netns KV needs its bring-up step");
        // The script returns only once the store answers (consul: a leader is elected).
        this.ready.push(
          new command.local.Command(name, { create: args.netnsStep.create, delete: args.netnsStep.delete }, { parent: this, ...rebuilt }),
        );
        break;
      }
      case "external":
        break;
    }
    this.clusterStore = pulumi.output(kv.url);
    this.uiUrl = pulumi.output(kv.kind === "consul" ? `${ui}/ui/` : ui);
    this.registerOutputs({ clusterStore: this.clusterStore, uiUrl: this.uiUrl });
  }
}
