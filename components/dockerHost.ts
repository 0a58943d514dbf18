import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { dindHostSpec, type HostPlan, type LabPlan, shellJoin } from "../src/model/index.js";
import { containerArgs } from "./dockerArgs.js";
import type { HostTls } from "./labTls.js";
import type { Connection } from "./runStep.js";
import type { ShellStep } from "../src/stack/steps.js";

interface DockerHostCommon {
  plan: LabPlan;
  host: HostPlan;
  /** Resources the daemon configuration waits for (the KV store must be healthy first). */
  after: pulumi.Resource[];
}

/** What each host kind needs, so that a missing piece is a type error, not a runtime one. */
export type DockerHostArgs = DockerHostCommon &
  (
    | {
        kind: "dind";
        /** The Docker-in-Docker image, pulled once on the user's engine for every host. */
        dindImage: docker.RemoteImage;
        /** The host's server certificate and the lab's CA (secrets), and where the client's files are. */
        tls: HostTls;
      }
    | {
        kind: "netns";
        /** Host bring-up (namespace, veth, dockerd) and the locally built busybox image. */
        netnsStep: ShellStep;
        netnsImageStep: ShellStep;
      }
    | {
        kind: "ssh";
        /** The reversible daemon configuration (apply on create, byte-exact restore on delete). */
        sshDaemonStep: ShellStep;
        /** How to reach the host (user, port, private key from a Pulumi secret). */
        connection: Connection;
      }
  );

/**
 * One lab host and its daemon configuration, plus a docker.Provider pointed at it.
 * Kinds: dind (privileged Docker-in-Docker container on the local engine), netns (a network namespace
 * with its own dockerd on this Linux machine), ssh (a real machine whose dockerd is reconfigured).
 */
export class DockerHost extends pulumi.ComponentResource {
  readonly provider: docker.Provider;
  readonly endpoint: pulumi.Output<string>;
  readonly name: string;
  /** The resource that means "daemon configured and answering". */
  readonly daemon: docker.Container | command.local.Command | command.remote.Command;
  /** netns: the locally built workload image, which containers must wait for. */
  readonly image?: pulumi.Resource;
  readonly daemonArgs: pulumi.Output<string[]>;
  /** netns: prints the endpoint once the daemon is up (what the provider's endpoint waits for). */
  readonly endpointStep?: command.local.Command;

  constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:host:DockerHost", name, {}, opts);
    const { plan, host } = args;
    this.name = host.name;
    // A dind or netns host is a container or namespace with a fixed name: the old one goes before its
    // replacement starts. It is also re-created with what it stands on (the underlay, the KV store, whose
    // new instance knows nothing of the old daemons), and everything on it follows (replaceWith: daemon).
    const rebuilt = { dependsOn: args.after, deleteBeforeReplace: true, replaceWith: args.after };
    switch (args.kind) {
      case "dind": {
        const spec = dindHostSpec(plan, host);
        const volumes = spec.mounts.map((m) => new docker.Volume(`${name}-data`, { name: m.volume }, { parent: this }));
        const t = args.tls;
        const content = { "tls.caCert": t.caCert, "tls.serverCert": t.serverCert, "tls.serverKey": t.serverKey };
        this.daemon = new docker.Container(name, containerArgs(spec, args.dindImage.imageId, content), {
          parent: this,
          ...rebuilt,
          dependsOn: [...args.after, ...volumes],
        });
        break;
      }
      case "netns": {
        // host-up returns once `docker info` answers on the host's socket.
        // New daemon settings are applied in place, as on a real host: host-up restarts the daemon with
        // the new flags and keeps its data-root, so networks and containers stay (and restart).
        this.daemon = new command.local.Command(
          name,
          { create: args.netnsStep.create, update: args.netnsStep.create, delete: args.netnsStep.delete },
          { parent: this, ...rebuilt },
        );
        // A re-created daemon starts without images: the image step is re-run with it.
        this.image = new command.local.Command(
          `${name}-image`,
          { create: args.netnsImageStep.create, update: args.netnsImageStep.create, delete: args.netnsImageStep.delete },
          { parent: this, dependsOn: [this.daemon], deleteBeforeReplace: true, replaceWith: [this.daemon] },
        );
        break;
      }
      case "ssh": {
        this.daemon = new command.remote.Command(
          name,
          {
            connection: args.connection,
            create: args.sshDaemonStep.create,
            // No triggers: a replacement would run the new apply before the old restore and undo it.
            // The settings are part of `create`, so a change re-runs apply in place (it is idempotent).
            update: args.sshDaemonStep.create,
            delete: args.sshDaemonStep.delete,
            // docker-daemon.sh never reads PULUMI_COMMAND_STDOUT; sending it makes sshd warn (AcceptEnv).
            addPreviousOutputInEnv: false,
          },
          { parent: this, dependsOn: args.after, additionalSecretOutputs: ["stdout", "stderr"] },
        );
        break;
      }
    }
    // The provider's endpoint is unknown in a preview until the daemon exists, so the engine leaves the
    // provider unconfigured and plans every resource on this host without dialing a daemon that is not
    // there yet (disableDockerDaemonCheck alone does not stop the provider's Configure from dialing):
    //  - dind: the container's id, unknown until it is created (or re-created);
    //  - netns: a step that prints the endpoint once the daemon is up. Its own output, not the daemon
    //    step's: new daemon settings update that step in place, and its outputs would turn unknown in
    //    that preview, showing every resource on the host as changing when none does;
    //  - ssh: the machine's daemon is already there.
    let endpoint: pulumi.Output<string>;
    if (this.daemon instanceof docker.Container) endpoint = this.daemon.id.apply(() => host.endpoint);
    else if (host.kind === "netns") {
      this.endpointStep = new command.local.Command(
        `${name}-endpoint`,
        { create: shellJoin(["echo", host.endpoint]) },
        { parent: this, dependsOn: [this.daemon], replaceWith: [this.daemon] },
      );
      endpoint = this.endpointStep.stdout.apply((s) => s.trim());
    } else endpoint = pulumi.output(host.endpoint);
    // dind: the client's files (ca.pem to check the daemon's certificate against, cert.pem, key.pem), as
    // the docker CLI takes them from DOCKER_CERT_PATH. A path, not the PEM text: the provider's
    // configuration then holds no key (and the provider's daemon check reads the files as the CLI does).
    const tls = args.kind === "dind" ? { certPath: args.tls.certPath } : {};
    this.provider = new docker.Provider(
      `${name}-provider`,
      { host: endpoint, ...sshOptsOf(host), ...tls, disableDockerDaemonCheck: true },
      // ssh: no data flow from the daemon step, but nothing may use the daemon before it is configured.
      { parent: this, dependsOn: host.kind === "ssh" ? [this.daemon] : [] },
    );
    this.endpoint = pulumi.output(host.endpoint);
    this.daemonArgs = pulumi.output(host.daemon.args);
    this.registerOutputs({ endpoint: this.endpoint, daemonArgs: this.daemonArgs });
  }
}

/** The docker provider's ssh options: the docker CLI's ssh transport, with the host's key file if set. */
export function sshOptsOf(host: HostPlan): { sshOpts?: string[] } {
  if (!host.ssh) return {};
  return { sshOpts: ["-o", "StrictHostKeyChecking=accept-new", ...(host.ssh.identityFile ? ["-i", host.ssh.identityFile] : [])] };
}
