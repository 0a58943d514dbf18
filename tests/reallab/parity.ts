// What the parity tests compare: the Docker objects of a lab as the daemons report them (docker inspect),
// with what differs between any two creations of the same object taken out (ids, timestamps, paths
// holding ids, state, random MACs), and the same objects as the model's specs and as the component
// arguments the Pulumi program registers, in the same terms.
import type { LabPlan } from "../../src/model/index.js";
import { type ContainerSpec, type NetworkSpec, networkHosts, networkSpec, workloadSpec } from "../../src/model/index.js";
import { dockerOk, hostOf } from "../../src/lab/workloads.js";

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});

/** Remove keys (paths like "HostConfig.LogConfig" reach into objects) from a deep copy. */
function without(v: Json, paths: readonly string[]): Json {
  const out = structuredClone(v);
  for (const p of paths) {
    const keys = p.split(".");
    let at: Json | undefined = out;
    for (const k of keys.slice(0, -1)) at = at && typeof at[k] === "object" && at[k] !== null ? (at[k] as Json) : undefined;
    if (at) delete at[keys.at(-1)!];
  }
  return out;
}

/**
 * An empty list, an empty map and null say the same in an inspect answer (the docker CLI sends empty
 * lists where the provider sends none): all three become null, everywhere in the document.
 */
function emptiesAsNull(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? null : v.map(emptiesAsNull);
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Json);
    return entries.length === 0 ? null : Object.fromEntries(entries.map(([k, x]) => [k, emptiesAsNull(x)]));
  }
  return v;
}

/** Fields of `docker inspect <container>` that differ between two creations of the same container. */
const CONTAINER_VOLATILE = [
  "Id",
  "Created",
  "State",
  "Image",
  "ResolvConfPath",
  "HostnamePath",
  "HostsPath",
  "LogPath",
  "RestartCount",
  "MountLabel",
  "ProcessLabel",
  "AppArmorProfile",
  "ExecIDs",
  "GraphDriver",
  "SizeRw",
  "SizeRootFs",
  "NetworkSettings",
  "Mounts",
  // Which streams a client attaching later (docker start -a) gets by default, not a property of the
  // detached container: `docker create` always sets stdout and stderr (only `run -d` clears them), the
  // provider's API call leaves them unset.
  "Config.AttachStdout",
  "Config.AttachStderr",
];

/** A container as its daemon reports it, minus what differs between creations; its networks by name. */
export function normalizeContainerInspect(inspect: Json): Json {
  const id = String(inspect["Id"] ?? "");
  const networks = obj(obj(inspect["NetworkSettings"])["Networks"]);
  const endpoints = Object.fromEntries(
    Object.entries(networks)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, e]) => {
        const ep = obj(e);
        // Docker 20.10 adds the container's short id as an alias on user-defined networks.
        const aliases = ((ep["Aliases"] as string[] | null) ?? []).filter((a) => !id.startsWith(a)).sort();
        return [name, { ...without(ep, ["NetworkID", "EndpointID", "MacAddress", "Aliases"]), Aliases: aliases }];
      }),
  );
  const mounts = ((inspect["Mounts"] as Json[] | null) ?? []).map((m) => without(m, ["Source"]));
  return emptiesAsNull({ ...without(inspect, CONTAINER_VOLATILE), Networks: endpoints, Mounts: mounts }) as Json;
}

/** A network as its daemon reports it, minus ids, dates, members and what the daemon adds by itself. */
export function normalizeNetworkInspect(inspect: Json): Json {
  const options = { ...obj(inspect["Options"]) };
  // Swarm writes the VNI it chose into the options.
  delete options["com.docker.network.driver.overlay.vxlanid_list"];
  return emptiesAsNull({ ...without(inspect, ["Id", "Created", "Containers", "Peers", "Services"]), Options: options }) as Json;
}

/** Every container and network of the plan, per host, as its daemon reports it (normalized). */
export async function inspectLabObjects(plan: LabPlan): Promise<{ containers: Record<string, Json>; networks: Record<string, Json> }> {
  const containers: Record<string, Json> = {};
  const networks: Record<string, Json> = {};
  for (const w of plan.workloads) {
    const [info] = JSON.parse(await dockerOk(hostOf(plan, w.host), ["container", "inspect", w.name])) as Json[];
    containers[`${w.host}/${w.name}`] = normalizeContainerInspect(obj(info));
  }
  for (const net of plan.networks) {
    // An overlay is reported by every host it spans; a macvlan exists once per host.
    const hosts = net.driver === "overlay" && plan.overlayMode === "kv" ? plan.hosts.map((h) => h.name) : networkHosts(net);
    for (const h of hosts) {
      const [info] = JSON.parse(await dockerOk(hostOf(plan, h), ["network", "inspect", net.name])) as Json[];
      networks[`${h}/${net.name}`] = normalizeNetworkInspect(obj(info));
    }
  }
  return { containers, networks };
}

/** What a spec says of a container, in the terms the comparisons use. */
export interface ContainerFacts {
  name: string;
  hostname: string;
  command: string[] | null;
  env: string[];
  init: boolean;
  tty: boolean;
  interactive: boolean;
  restart: string;
  privileged: boolean;
  stopTimeoutSeconds: number;
  networks: Record<string, { ipv4: string; aliases: string[] }>;
}

export function containerFacts(spec: ContainerSpec): ContainerFacts {
  return {
    name: spec.name,
    hostname: spec.hostname,
    command: spec.command ?? null,
    env: [...spec.env].sort(),
    init: spec.init,
    tty: spec.tty,
    interactive: spec.interactive,
    restart: spec.restart,
    privileged: spec.privileged,
    stopTimeoutSeconds: spec.stopTimeoutSeconds,
    networks: Object.fromEntries(spec.attachments.map((a) => [a.network, { ipv4: a.ipv4, aliases: [...a.aliases].sort() }])),
  };
}

/** The same facts from `docker inspect` (the image's own environment, e.g. PATH, is not the container's). */
export function containerFactsFromInspect(inspect: Json, imageEnv: readonly string[]): ContainerFacts {
  const config = obj(inspect["Config"]);
  const host = obj(inspect["HostConfig"]);
  const networks = obj(obj(inspect["NetworkSettings"])["Networks"]);
  const id = String(inspect["Id"] ?? "");
  const name = String(inspect["Name"]).replace(/^\//, "");
  return {
    name,
    hostname: String(config["Hostname"]),
    command: (config["Cmd"] as string[] | null) ?? null,
    env: ((config["Env"] as string[] | null) ?? []).filter((e) => !imageEnv.includes(e)).sort(),
    init: host["Init"] === true,
    tty: config["Tty"] === true,
    interactive: config["OpenStdin"] === true,
    restart: String(obj(host["RestartPolicy"])["Name"] || "no"),
    privileged: host["Privileged"] === true,
    stopTimeoutSeconds: Number(config["StopTimeout"] ?? 10),
    networks: Object.fromEntries(
      Object.entries(networks).map(([net, e]) => {
        const ep = obj(e);
        // The daemon adds the container's short id and its name on user-defined networks: not the spec's.
        const aliases = ((ep["Aliases"] as string[] | null) ?? []).filter((a) => !id.startsWith(a) && a !== name).sort();
        return [net, { ipv4: String(obj(ep["IPAMConfig"])["IPv4Address"] ?? ""), aliases }];
      }),
    ),
  };
}

/** The same facts from the docker.Container arguments the Pulumi program registers. */
export function containerFactsFromArgs(args: Json): ContainerFacts {
  const nets = (args["networksAdvanced"] as Json[] | undefined) ?? [];
  return {
    name: String(args["name"]),
    hostname: String(args["hostname"]),
    command: (args["command"] as string[] | undefined) ?? null,
    env: [...((args["envs"] as string[] | undefined) ?? [])].sort(),
    init: args["init"] === true,
    tty: args["tty"] === true,
    interactive: args["stdinOpen"] === true,
    restart: String(args["restart"] ?? "no"),
    privileged: args["privileged"] === true,
    stopTimeoutSeconds: Number(args["stopTimeout"] ?? 10),
    networks: Object.fromEntries(
      nets.map((n) => [
        String(n["name"]),
        { ipv4: String(n["ipv4Address"] ?? ""), aliases: [...((n["aliases"] as string[]) ?? [])].sort() },
      ]),
    ),
  };
}

export interface NetworkFacts {
  name: string;
  driver: string;
  attachable: boolean;
  subnet: string;
  gateway: string;
  ipRange: string | null;
  options: Record<string, string>;
}

export function networkFacts(spec: NetworkSpec): NetworkFacts {
  return {
    name: spec.name,
    driver: spec.driver,
    attachable: spec.attachable,
    subnet: spec.subnet,
    gateway: spec.gateway,
    ipRange: spec.ipRange ?? null,
    options: spec.options,
  };
}

export function networkFactsFromInspect(inspect: Json): NetworkFacts {
  const c = obj(((obj(inspect["IPAM"])["Config"] as Json[] | null) ?? [])[0]);
  const options = { ...obj(inspect["Options"]) } as Record<string, string>;
  delete options["com.docker.network.driver.overlay.vxlanid_list"];
  return {
    name: String(inspect["Name"]),
    driver: String(inspect["Driver"]),
    attachable: inspect["Attachable"] === true,
    subnet: String(c["Subnet"] ?? ""),
    gateway: String(c["Gateway"] ?? ""),
    ipRange: (c["IPRange"] as string | undefined) || null,
    options,
  };
}

export function networkFactsFromArgs(args: Json): NetworkFacts {
  const c = obj(((args["ipamConfigs"] as Json[] | undefined) ?? [])[0]);
  return {
    name: String(args["name"]),
    driver: String(args["driver"]),
    attachable: args["attachable"] === true,
    subnet: String(c["subnet"] ?? ""),
    gateway: String(c["gateway"] ?? ""),
    ipRange: (c["ipRange"] as string | undefined) ?? null,
    options: (args["options"] as Record<string, string> | undefined) ?? {},
  };
}

/** The model's specs of a plan's workloads and networks, keyed like inspectLabObjects (host/name). */
export function planSpecs(plan: LabPlan): { containers: Record<string, ContainerFacts>; networks: Record<string, NetworkFacts> } {
  return {
    containers: Object.fromEntries(plan.workloads.map((w) => [`${w.host}/${w.name}`, containerFacts(workloadSpec(w))])),
    networks: Object.fromEntries(
      plan.networks.flatMap((n) => networkHosts(n).map((h) => [`${h}/${n.name}`, networkFacts(networkSpec(n, h))])),
    ),
  };
}
