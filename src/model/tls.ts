// Where the dind hosts' TLS material lives and how a client names it: pure paths and lines, consumed by
// the stack (uploads, the provider, the outputs), the certificate tool and the lab tools alike.
import { shellJoin } from "./netnsCommands.js";
import type { HostPlan, LabPlan, TlsPlan } from "./types.js";

/** The client's files in TlsPlan.clientDir, named as the docker CLI expects them under DOCKER_CERT_PATH. */
export const TLS_CLIENT_FILES = { ca: "ca.pem", cert: "cert.pem", key: "key.pem" } as const;

/**
 * The files a dind host's entrypoint reads under DOCKER_TLS_CERTDIR, in the official dind image's layout.
 * With server/{ca,cert,key}.pem there and no ca/key.pem, its entrypoint generates nothing and serves
 * --tlsverify with them; ca/cert.pem is there too, so that older entrypoints do not make a CA of their own.
 */
export function dindCertFiles(tls: TlsPlan): { caCert: string; serverCa: string; serverCert: string; serverKey: string } {
  return {
    caCert: `${tls.certDir}/ca/cert.pem`,
    serverCa: `${tls.certDir}/server/ca.pem`,
    serverCert: `${tls.certDir}/server/cert.pem`,
    serverKey: `${tls.certDir}/server/key.pem`,
  };
}

/** The docker CLI's environment for one dind host: the endpoint, TLS verification, the client's files. */
export function dockerCliEnv(host: HostPlan, certPath: string): Record<string, string> {
  return { DOCKER_HOST: host.endpoint, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certPath };
}

/** One line a person pastes into a shell to use the stock docker CLI on a dind host. */
export function dockerCliLine(host: HostPlan, certPath: string): string {
  const env = dockerCliEnv(host, certPath);
  return `export ${Object.entries(env)
    .map(([k, v]) => `${k}=${shellJoin([v])}`)
    .join(" ")}`;
}

/**
 * Whether the stack reads Docker's records back from Consul (@pulumi/consul): the store must answer
 * the machine running the stack, so a dind store only when it is published on 127.0.0.1.
 */
export function readsKvRegistrations(plan: LabPlan): boolean {
  const kv = plan.kv;
  if (kv?.kind !== "consul" || plan.overlayMode !== "kv") return false;
  if (kv.provision === "netns") return false;
  return kv.provision !== "local-container" || kv.published;
}

/** The certificate tool's command lines (src/cli/tls.ts), as the stack's TLS resources run them. */
export interface TlsCommands {
  /** Makes the CA and the client certificate (printed as JSON) and writes the client's files; delete removes them. */
  ca: { create: string[]; delete: string[] };
  /** Per host: its server certificate, from the CA's JSON on stdin. */
  servers: Record<string, string[]>;
}

const TLS_TOOL = ["node", "--import", "tsx", "src/cli/tls.ts"] as const;

export function tlsCommands(plan: LabPlan): TlsCommands | undefined {
  const tls = plan.tls;
  if (!tls) return undefined;
  return {
    ca: {
      create: [...TLS_TOOL, "ca", "--client-dir", tls.clientDir, "--ca-name", tls.caName, "--client-name", tls.clientName],
      delete: [...TLS_TOOL, "remove", "--client-dir", tls.clientDir],
    },
    servers: Object.fromEntries(
      plan.hosts.flatMap((h) =>
        h.tls
          ? [
              [
                h.name,
                [
                  ...TLS_TOOL,
                  "server",
                  "--cn",
                  h.tls.commonName,
                  ...h.tls.ips.flatMap((ip) => ["--ip", ip]),
                  ...h.tls.dnsNames.flatMap((d) => ["--dns", d]),
                ],
              ],
            ]
          : [],
      ),
    ),
  };
}
