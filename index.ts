// The lab stack: read config, validate it into a plan (nothing is registered if it is wrong),
// build the lab, export what a user needs to find and use it.
import * as pulumi from "@pulumi/pulumi";
import { NetworkLab } from "./components/networkLab.js";
import { labOutputs } from "./components/labOutputs.js";
import { readLabConfig } from "./src/stack/readConfig.js";
import { netnsToolOptions } from "./src/lab/tools.js";
import { labSteps } from "./src/stack/steps.js";
import { dindEngine, dindEngineLine } from "./src/stack/dindEngine.js";
import { dindPreflight } from "./src/lab/dindPreflight.js";
import { netnsPreflight } from "./src/lab/netnsLab.js";
import { writeClientTls } from "./src/docker/tls.js";
import { buildPlan, planSummary } from "./src/model/index.js";

const config = new pulumi.Config("lab");
const plan = buildPlan(readLabConfig(config));
pulumi.log.info(planSummary(plan));
// netns labs: what this machine must have (dockerd with the KV backend, kernel features such as vxlan,
// macvlan, 802.1q) is checked before anything is created. Not in a preview, which changes nothing.
if (plan.hostKind === "netns" && !pulumi.runtime.isDryRun()) await netnsPreflight(plan, netnsToolOptions());
// dind labs: the engine the hosts run on is the docker provider's default (docker:host, else DOCKER_HOST).
// What the inner daemons need from it (privileged containers, cgroups, iptables, the kernel's vxlan,
// macvlan, 802.1q) is checked there before anything is created, with one throwaway container of the
// lab's dind image; not in a preview, which changes nothing.
const engine = plan.hostKind === "dind" ? dindEngine(new pulumi.Config("docker").get("host")) : undefined;
if (engine) {
  pulumi.log.info(dindEngineLine(engine));
  if (!pulumi.runtime.isDryRun()) for (const n of await dindPreflight(plan, engine.host)) pulumi.log.info(`[preflight] note: ${n}`);
}
const sshKeys = Object.fromEntries(
  [...new Set(plan.hosts.flatMap((h) => (h.ssh ? [h.ssh.privateKeySecret] : [])))].map((k) => [k, config.requireSecret(k)]),
);
// dind: daemon recovery and faults run inside the host containers, on the engine they run on.
const lab = new NetworkLab(plan.name, { plan, steps: labSteps(plan, process.env, engine ? { dindEngine: engine.host } : {}), sshKeys });
// dind: the client's certificate files come back from the state if they were removed.
lab.tls?.restoreClientFiles(writeClientTls);
const out = labOutputs(plan, lab);

export const consulUi = out.consulUi;
export const hosts = out.hosts;
export const networks = out.networks;
export const containers = out.containers;
export const kvRegistrations = out.kvRegistrations;
export const verification = out.verification;
export const faults = out.faults;
export const topology = out.topology;
