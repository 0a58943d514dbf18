import * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import type { ShellStep } from "../src/stack/steps.js";

export type Connection = command.types.input.remote.ConnectionArgs;

/**
 * Runs a step where it belongs: local.Command on the user's machine, or remote.Command on an ssh
 * host. Remote steps carry their script on stdin, so nothing is copied to the host first.
 */
export function runStep(
  name: string,
  step: ShellStep,
  create: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
  connection?: Connection,
  environment?: pulumi.Input<Record<string, pulumi.Input<string>>>,
): command.local.Command | command.remote.Command {
  // The provider echoes a command's output into `pulumi up` unless told otherwise.
  const logging = step.secretStdout ? ({ logging: "stderr" } as const) : {};
  if (step.where === "remote") {
    if (!connection) throw new Error(`step ${step.id} runs on ${step.host ?? "a host"} over ssh, but no connection was given`);
    return new command.remote.Command(
      name,
      // Our scripts never read PULUMI_COMMAND_STDOUT; sending it only makes sshd warn (AcceptEnv) on every delete.
      { connection, create, delete: step.delete, addPreviousOutputInEnv: false, ...logging },
      { ...opts, additionalSecretOutputs: ["stdout"] },
    );
  }
  return new command.local.Command(
    name,
    {
      create,
      delete: step.delete,
      ...logging,
      ...((environment ?? step.environment) ? { environment: environment ?? step.environment ?? {} } : {}),
    },
    { ...opts, additionalSecretOutputs: ["stdout"] },
  );
}
