// Host-side steps as shell command lines for @pulumi/command. The model computes them (pure
// functions over the plan); the components only run them.
export interface ShellStep {
  /** Stable id, used in resource names. */
  id: string;
  create: string;
  delete: string;
  /** Extra environment for the command (e.g. DOCKER_HOST). Secrets are passed separately. */
  environment?: Record<string, string>;
  /** Where it runs: on the user's machine (local.Command) or on the host over ssh (remote.Command). */
  where?: "local" | "remote";
  /** The host the step belongs to. */
  host?: string;
  /** stdout holds a secret (the swarm join token): never echo it into `pulumi up`'s output. */
  secretStdout?: boolean;
}

export interface NetnsSteps {
  neighbours: ShellStep;
  switch: ShellStep;
  kv?: ShellStep;
  hosts: Record<string, ShellStep>;
  images: Record<string, ShellStep>;
}

export interface SwarmSteps {
  /** Runs on the manager; prints the worker join token as the last line of stdout. */
  init: ShellStep;
  /** Per worker; the token reaches it as $SWARM_JOIN_TOKEN (local) or in place of `tokenPlaceholder` (remote). */
  join: Record<string, ShellStep>;
  tokenPlaceholder: string;
}

export interface LabSteps {
  netns?: NetnsSteps;
  /** ssh hosts: reversible daemon configuration per host. */
  sshDaemon?: Record<string, ShellStep>;
  swarm?: SwarmSteps;
  /** The verifier as a command: prints JSON results, exits non-zero with a readable report on failure. */
  verify?: ShellStep;
}
