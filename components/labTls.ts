import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { LabPlan } from "../src/model/index.js";
import type { TlsSteps } from "../src/stack/steps.js";
import type { CaMaterial, ServerMaterial } from "../src/tls/certs.js";

export interface LabTlsArgs {
  plan: LabPlan;
  steps: TlsSteps;
}

/** What a dind host needs to serve its API with TLS, and where a client (the docker provider) finds its certificate. */
export interface HostTls {
  caCert: pulumi.Output<string>;
  serverCert: pulumi.Output<string>;
  serverKey: pulumi.Output<string>;
  /** The client's ca.pem, cert.pem and key.pem (DOCKER_CERT_PATH). */
  certPath: string;
}

/**
 * A dind lab's TLS material: one CA, the client certificate (which the CA step also writes where the lab
 * tools and the docker CLI read it, and removes on destroy) and one server certificate per host. Each is
 * made once by a command whose output the state keeps as a secret: later runs of the program reuse it,
 * so a no-change preview stays one. A host's certificate is made again only when what it covers changes.
 */
export class LabTls extends pulumi.ComponentResource {
  readonly ca: command.local.Command;
  readonly servers: Record<string, command.local.Command> = {};
  /** DOCKER_CERT_PATH: the client's ca.pem, cert.pem and key.pem. */
  readonly certPath: string;
  private readonly material: pulumi.Output<CaMaterial>;
  private readonly serverMaterial: Record<string, pulumi.Output<ServerMaterial>> = {};

  constructor(name: string, args: LabTlsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:tls:LabTls", name, {}, opts);
    const { steps } = args;
    this.certPath = steps.certPath;
    // The keys must reach neither `pulumi up`'s output nor the state in the clear.
    const secretOut = { additionalSecretOutputs: ["stdout"] };
    // A CA made for other settings (another lab name) is a new CA: the old one's client files go with it.
    this.ca = new command.local.Command(
      `${name}-ca`,
      { create: steps.ca.create, delete: steps.ca.delete, logging: "stderr", addPreviousOutputInEnv: false },
      { parent: this, ...secretOut, replaceOnChanges: ["*"] },
    );
    this.material = pulumi.secret(this.ca.stdout.apply((s) => JSON.parse(s) as CaMaterial));
    for (const [host, step] of Object.entries(steps.servers)) {
      const cmd = new command.local.Command(
        `${name}-${host}`,
        // The CA (with its key) on stdin: never on a command line, never in the environment.
        // No previous output in its environment: it holds the old key.
        {
          create: step.create,
          update: step.create,
          delete: step.delete,
          stdin: this.ca.stdout,
          logging: "stderr",
          addPreviousOutputInEnv: false,
        },
        { parent: this, ...secretOut },
      );
      this.servers[host] = cmd;
      this.serverMaterial[host] = pulumi.secret(cmd.stdout.apply((s) => JSON.parse(s) as ServerMaterial));
    }
    this.registerOutputs({ certPath: this.certPath });
  }

  /** The CA and a host's server certificate (secrets), and where the client's files are. */
  forHost(host: string): HostTls {
    const server = this.serverMaterial[host];
    if (!server) throw new Error(`no server certificate planned for ${host}`);
    return {
      caCert: this.material.apply((m) => m.caCert),
      serverCert: server.apply((s) => s.cert),
      serverKey: server.apply((s) => s.key),
      certPath: this.certPath,
    };
  }

  /**
   * Writes the client's files again from the state, whenever the CA is known (every run but the first,
   * whose CA step writes them itself): files removed by hand come back with the next `npm run up`.
   * Never during a preview, which changes nothing.
   */
  restoreClientFiles(write: (dir: string, m: { ca: string; cert: string; key: string }) => void): void {
    if (pulumi.runtime.isDryRun()) return;
    this.material.apply((m) => write(this.certPath, { ca: m.caCert, cert: m.clientCert, key: m.clientKey }));
  }
}
