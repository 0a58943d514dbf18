import * as consul from "@pulumi/consul";
import * as pulumi from "@pulumi/pulumi";
import { type KvPlan, type LabPlan, summarizeDockerKv, type DockerKvSummary } from "../src/model/index.js";

export interface KvRegistrationsArgs {
  plan: LabPlan;
  kv: KvPlan;
  /** Read only after the overlay and its containers exist, so their entries are there. */
  after: pulumi.Resource[];
}

/**
 * Reads what Docker wrote into Consul (docker/nodes, docker/network/...) through @pulumi/consul and
 * summarizes it with the model's summarizeDockerKv: the proof, as a stack output, that the daemons
 * registered and the overlay lives in the KV store. Same interpretation the real-lab tests use.
 */
export class KvRegistrations extends pulumi.ComponentResource {
  readonly provider: consul.Provider;
  readonly summary: pulumi.Output<DockerKvSummary>;

  constructor(name: string, args: KvRegistrationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:kv:KvRegistrations", name, {}, opts);
    const { kv, plan } = args;
    // dind publishes Consul on loopback only; elsewhere the lab address is reachable from the user's machine.
    const address = plan.hostKind === "dind" ? `127.0.0.1:${kv.port}` : `${kv.address}:${kv.port}`;
    this.provider = new consul.Provider(`${name}-provider`, { address, scheme: "http" }, { parent: this });
    const docs = consul.getKeyPrefixOutput({ pathPrefix: "docker/" }, { provider: this.provider, parent: this, dependsOn: args.after });
    this.summary = docs.subkeys.apply((subkeys) =>
      summarizeDockerKv(Object.entries(subkeys).map(([key, value]) => ({ key: `docker/${key}`, value }))),
    );
    this.registerOutputs({ summary: this.summary });
  }
}
