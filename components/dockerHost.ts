import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan, LabPlan } from "../src/model/index.js";
import type { Connection } from "./runStep.js";
import type { ShellStep } from "./steps.js";

/** The inner daemon's API port inside a dind host (published on 127.0.0.1 only). */
const DIND_API_PORT = 2375;

export interface DockerHostArgs {
  plan: LabPlan;
  host: HostPlan;
  /** dind: the underlay network on the user's engine. */
  underlay?: docker.Network;
  /** dind: the Docker-in-Docker image, pulled once on the user's engine for every host. */
  dindImage?: docker.RemoteImage;
  /** Resources the daemon configuration waits for (the KV store must be healthy first). */
  after: pulumi.Resource[];
  /** netns: host bring-up (namespace, veth, dockerd) and the locally built busybox image. */
  netnsStep?: ShellStep;
  netnsImageStep?: ShellStep;
  /** ssh: the reversible daemon configuration (apply on create, byte-exact restore on delete). */
  sshDaemonStep?: ShellStep;
  /** ssh: how to reach the host (user, port, private key from a Pulumi secret). */
  connection?: Connection;
}

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
  readonly daemon: pulumi.CustomResource;
  /** netns: the locally built workload image, which containers must wait for. */
  readonly image?: pulumi.Resource;
  readonly daemonArgs: pulumi.Output<string[]>;

  constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:host:DockerHost", name, {}, opts);
    const { plan, host } = args;
    this.name = host.name;
    switch (host.kind) {
      case "dind": {
        if (!args.underlay || !args.dindImage) throw new Error("a dind host needs the underlay network and the dind image");
        const data = new docker.Volume(`${name}-data`, { name: `${plan.name}-${host.name}-data` }, { parent: this });
        this.daemon = new docker.Container(
          name,
          {
            name: `${plan.name}-${host.name}`,
            // Classic overlay gossip (serf) needs a unique hostname per daemon.
            hostname: host.name,
            image: args.dindImage.imageId,
            privileged: true,
            // No TLS: the entrypoint then prepends `dockerd --host=unix:///var/run/docker.sock
            // --host=tcp://0.0.0.0:2375` to flag-only commands; 2375 is published on loopback only.
            envs: ["DOCKER_TLS_CERTDIR="],
            command: host.daemon.args,
            networksAdvanced: [{ name: args.underlay.name, ipv4Address: host.address }],
            ports: [{ internal: DIND_API_PORT, external: host.publishedApiPort!, ip: "127.0.0.1" }],
            mounts: [{ type: "volume", source: data.name, target: "/var/lib/docker" }],
            healthcheck: { tests: ["CMD", "docker", "info"], interval: "2s", timeout: "5s", retries: 60, startPeriod: "2s" },
            wait: true,
            waitTimeout: 180,
          },
          { parent: this, dependsOn: args.after },
        );
        break;
      }
      case "netns": {
        if (!args.netnsStep || !args.netnsImageStep) throw new Error("a netns host needs its bring-up and image steps");
        // host-up returns once `docker info` answers on the host's socket.
        this.daemon = new command.local.Command(name, { create: args.netnsStep.create, delete: args.netnsStep.delete }, { parent: this, dependsOn: args.after });
        this.image = new command.local.Command(
          `${name}-image`,
          { create: args.netnsImageStep.create, delete: args.netnsImageStep.delete },
          { parent: this, dependsOn: [this.daemon] },
        );
        break;
      }
      case "ssh": {
        if (!args.sshDaemonStep || !args.connection) throw new Error("an ssh host needs its daemon step and connection");
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
    // The endpoint reaches the provider through the daemon's id, so the provider's configuration is
    // unknown until the daemon exists: a first preview then plans every resource on this host without
    // connecting to a daemon that is not there yet (disableDockerDaemonCheck alone does not stop the
    // provider from dialing in Configure).
    this.provider = new docker.Provider(
      `${name}-provider`,
      { host: this.daemon.id.apply(() => host.endpoint), ...sshOptsOf(host), disableDockerDaemonCheck: true },
      { parent: this },
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
