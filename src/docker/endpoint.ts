// Docker endpoints as the lab tools accept them (unix, tcp, ssh) and which one each host of a plan uses.
import type { LabPlan } from "../model/index.js";

export type Endpoint =
  | { kind: "unix"; socketPath: string; text: string }
  | { kind: "tcp"; host: string; port: number; text: string }
  | { kind: "ssh"; user: string; host: string; port: number; text: string };

export class EndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EndpointError";
  }
}

/** unix:///path, tcp://host:port, ssh://user@host[:port]; anything else is a usage error. */
export function parseEndpoint(text: string): Endpoint {
  const fix = "use unix:///path/to/docker.sock, tcp://127.0.0.1:23751 or ssh://user@host:22";
  if (text.startsWith("unix://")) {
    const socketPath = text.slice("unix://".length);
    if (!socketPath.startsWith("/"))
      throw new EndpointError(`endpoint ${JSON.stringify(text)}: a unix socket path must be absolute; ${fix}`);
    return { kind: "unix", socketPath, text };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EndpointError(`endpoint ${JSON.stringify(text)} is not a URL; ${fix}`);
  }
  if (url.protocol === "tcp:" || url.protocol === "http:" || url.protocol === "https:") {
    // Docker's own defaults: 2376 is its TLS port, 2375 the plain one.
    const port = Number(url.port || (url.protocol === "https:" ? "2376" : "2375"));
    if (!url.hostname) throw new EndpointError(`endpoint ${JSON.stringify(text)} has no host; ${fix}`);
    return { kind: "tcp", host: url.hostname, port, text };
  }
  if (url.protocol === "ssh:") {
    if (!url.username || !url.hostname) throw new EndpointError(`endpoint ${JSON.stringify(text)} needs user@host; ${fix}`);
    return { kind: "ssh", user: decodeURIComponent(url.username), host: url.hostname, port: Number(url.port || "22"), text };
  }
  throw new EndpointError(`endpoint ${JSON.stringify(text)}: unsupported scheme ${url.protocol}; ${fix}`);
}

/** The endpoint used for each host: overrides first, then the plan. Unknown hosts in overrides are an error. */
export function resolveEndpoints(plan: LabPlan, overrides: Readonly<Record<string, string>> = {}): Map<string, string> {
  for (const host of Object.keys(overrides)) {
    if (!plan.hosts.some((h) => h.name === host)) {
      throw new Error(
        `--endpoint ${host}=...: no host named ${JSON.stringify(host)} in the plan; use one of ${plan.hosts.map((h) => h.name).join(", ")}`,
      );
    }
  }
  const out = new Map<string, string>();
  for (const h of plan.hosts) {
    const e = overrides[h.name] ?? h.endpoint;
    parseEndpoint(e); // a malformed endpoint is a usage error, before anything runs
    out.set(h.name, e);
  }
  return out;
}
