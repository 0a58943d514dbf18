// The model's specs (src/model/specs.ts) as the docker provider's arguments: a mapping, no decisions.
// `npm run lab` maps the same specs to the docker CLI (src/docker/cli.ts).
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { ContainerSpec, NetworkSpec, UploadContent } from "../src/model/index.js";

/**
 * A container's arguments; `image` is the spec's image as this host has it (a pulled image's id, or the
 * name); `content`: the secret material its uploads name.
 */
export function containerArgs(
  spec: ContainerSpec,
  image: pulumi.Input<string>,
  content: Partial<Record<UploadContent, pulumi.Input<string>>> = {},
): docker.ContainerArgs {
  const h = spec.healthcheck;
  const uploads = (spec.uploads ?? []).map((u) => {
    const text = content[u.content];
    if (text === undefined) throw new Error(`container ${spec.name}: no ${u.content} for ${u.path}`);
    return { file: u.path, content: text, permissions: u.mode };
  });
  return {
    name: spec.name,
    hostname: spec.hostname,
    image,
    ...(spec.command ? { command: spec.command } : {}),
    ...(spec.env.length > 0 ? { envs: spec.env } : {}),
    init: spec.init,
    tty: spec.tty,
    stdinOpen: spec.interactive,
    restart: spec.restart,
    privileged: spec.privileged,
    ...(spec.hostNetwork ? { networkMode: "host" } : {}),
    // The first attachment is the primary network, as `docker run --network` makes it.
    ...(spec.attachments.length > 0
      ? {
          networksAdvanced: spec.attachments.map((a) => ({
            name: a.network,
            ipv4Address: a.ipv4,
            ...(a.aliases.length > 0 ? { aliases: a.aliases } : {}),
          })),
        }
      : {}),
    ...(spec.ports.length > 0 ? { ports: spec.ports.map((p) => ({ internal: p.internal, external: p.external, ip: p.ip })) } : {}),
    ...(spec.mounts.length > 0 ? { mounts: spec.mounts.map((m) => ({ type: "volume", source: m.volume, target: m.target })) } : {}),
    ...(uploads.length > 0 ? { uploads } : {}),
    ...(h
      ? {
          healthcheck: {
            tests: h.test,
            interval: `${h.intervalSeconds}s`,
            timeout: `${h.timeoutSeconds}s`,
            retries: h.retries,
            startPeriod: `${h.startPeriodSeconds}s`,
          },
          // Created means healthy: whatever depends on the container may use it at once.
          wait: true,
          waitTimeout: h.waitSeconds,
        }
      : {}),
    stopTimeout: spec.stopTimeoutSeconds,
    destroyGraceSeconds: spec.stopTimeoutSeconds,
  };
}

export function networkArgs(spec: NetworkSpec): docker.NetworkArgs {
  return {
    name: spec.name,
    driver: spec.driver,
    attachable: spec.attachable,
    ipamConfigs: [{ subnet: spec.subnet, gateway: spec.gateway, ...(spec.ipRange ? { ipRange: spec.ipRange } : {}) }],
    ...(Object.keys(spec.options).length > 0 ? { options: spec.options } : {}),
    ...(Object.keys(spec.labels).length > 0 ? { labels: Object.entries(spec.labels).map(([label, value]) => ({ label, value })) } : {}),
  };
}
