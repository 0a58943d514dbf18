// The model's specs (src/model/specs.ts) as docker CLI argv: what `npm run lab` and the tests run. The
// components map the same specs to the docker provider (components/dockerArgs.ts): a mapping, no decisions.
import { type ContainerAttachment, type ContainerSpec, type NetworkSpec, shellJoin } from "../model/index.js";

/** The Debian client: another (older) docker client may sit earlier on PATH. */
export const DOCKER_CLI = "/usr/bin/docker";

/**
 * The docker CLI calls that make a container, in order: create, join its networks, start. They mirror
 * how the docker provider makes one (create it on the default bridge network, disconnect that, connect
 * each attachment with its address and aliases, start), so that both leave the same container
 * (HostConfig.NetworkMode "bridge" included); `docker run --network` would leave another. The CLI has
 * only the shell form of a healthcheck: an exec-form test runs its words through the container's
 * /bin/sh instead (the same command).
 */
export function containerArgvs(spec: ContainerSpec, uploadsDir?: string): string[][] {
  const joins = spec.hostNetwork
    ? []
    : spec.attachments.length > 0
      ? [["network", "disconnect", "bridge", spec.name], ...spec.attachments.map((a) => connectArgv(spec.name, a))]
      : [];
  // Uploads: the files, which the caller wrote under uploadsDir at their paths, copied in before the start.
  if ((spec.uploads ?? []).length > 0 && uploadsDir === undefined)
    throw new Error(`container ${spec.name} has uploads: give the directory that holds them`);
  const uploads = uploadsDir !== undefined && (spec.uploads ?? []).length > 0 ? [["cp", `${uploadsDir}/.`, `${spec.name}:/`]] : [];
  return [createArgv(spec), ...joins, ...uploads, ["start", spec.name]];
}

function createArgv(spec: ContainerSpec): string[] {
  const h = spec.healthcheck;
  const flag = (on: boolean, f: string): string[] => (on ? [f] : []);
  return [
    "create",
    "--name",
    spec.name,
    "--hostname",
    spec.hostname,
    ...flag(spec.init, "--init"),
    ...flag(spec.interactive, "-i"),
    ...flag(spec.tty, "-t"),
    ...flag(spec.privileged, "--privileged"),
    "--restart",
    spec.restart,
    "--stop-timeout",
    String(spec.stopTimeoutSeconds),
    ...spec.env.flatMap((e) => ["-e", e]),
    "--network",
    spec.hostNetwork ? "host" : "bridge",
    ...spec.ports.flatMap((p) => ["-p", `${p.ip}:${p.external}:${p.internal}`]),
    ...spec.mounts.flatMap((m) => ["--mount", `type=volume,source=${m.volume},target=${m.target}`]),
    ...(h
      ? [
          "--health-cmd",
          healthShell(h.test),
          "--health-interval",
          `${h.intervalSeconds}s`,
          "--health-timeout",
          `${h.timeoutSeconds}s`,
          "--health-retries",
          String(h.retries),
          "--health-start-period",
          `${h.startPeriodSeconds}s`,
        ]
      : []),
    spec.image,
    ...(spec.command ?? []),
  ];
}

/** A healthcheck test as the CLI's --health-cmd (a shell command line). */
function healthShell(test: readonly string[]): string {
  const [form, ...rest] = test;
  return form === "CMD-SHELL" ? rest.join(" ") : shellJoin(rest);
}

/** `docker network connect` of one attachment, with its address and aliases. */
export function connectArgv(container: string, a: ContainerAttachment): string[] {
  return ["network", "connect", "--ip", a.ipv4, ...a.aliases.flatMap((x) => ["--alias", x]), a.network, container];
}

export function networkCreateArgv(spec: NetworkSpec): string[] {
  return [
    "network",
    "create",
    "--driver",
    spec.driver,
    ...(spec.attachable ? ["--attachable"] : []),
    "--subnet",
    spec.subnet,
    "--gateway",
    spec.gateway,
    ...(spec.ipRange ? ["--ip-range", spec.ipRange] : []),
    ...Object.entries(spec.options).flatMap(([k, v]) => ["-o", `${k}=${v}`]),
    ...Object.entries(spec.labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
    spec.name,
  ];
}

/** What `docker network inspect` says of a network, in a spec's terms (for comparing an existing network). */
export interface InspectedNetwork {
  Name: string;
  Driver: string;
  Attachable?: boolean;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] | null };
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/**
 * How an existing network differs from its spec ([] when it is the planned one). Extra options a daemon
 * adds itself (swarm's VNI list) are not differences; a missing or different planned option is.
 */
export function networkDifferences(have: InspectedNetwork, spec: NetworkSpec): string[] {
  const c = have.IPAM?.Config?.[0] ?? {};
  const diffs: string[] = [];
  const check = (what: string, got: unknown, want: unknown): void => {
    if (got !== want) diffs.push(`${what} ${JSON.stringify(got ?? null)} (planned ${JSON.stringify(want ?? null)})`);
  };
  check("driver", have.Driver, spec.driver);
  check("attachable", have.Attachable ?? false, spec.attachable);
  check("subnet", c.Subnet, spec.subnet);
  check("gateway", c.Gateway, spec.gateway);
  check("ip-range", c.IPRange || undefined, spec.ipRange);
  for (const [k, v] of Object.entries(spec.options)) check(`option ${k}`, have.Options?.[k], v);
  for (const [k, v] of Object.entries(spec.labels)) check(`label ${k}`, have.Labels?.[k], v);
  return diffs;
}
