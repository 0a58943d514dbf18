// The host-side steps of a plan, as the command lines the components run. Every argv comes from a
// pure model function; this module only turns them into shell strings for @pulumi/command.
import type { LabSteps, NetnsSteps, ShellStep } from "../../components/steps.js";
import { type LabPlan, netnsCommands, type NetnsStep, shellJoin } from "../model/index.js";

/** Where `npm run consul:build` leaves the binary unless DNLAB_CONSUL says otherwise. */
export function consulBinaryPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env["DNLAB_CONSUL"];
}

function shell(step: NetnsStep): ShellStep {
  return { id: step.id, create: shellJoin(step.create), delete: shellJoin(step.delete) };
}

export function netnsShellSteps(plan: LabPlan, env: NodeJS.ProcessEnv = process.env): NetnsSteps {
  const consul = consulBinaryPath(env);
  const c = netnsCommands(plan, consul ? { consulBinary: consul } : {});
  const byHost = (steps: NetnsStep[]): Record<string, ShellStep> => Object.fromEntries(steps.map((s) => [s.host!, shell(s)]));
  return { switch: shell(c.switch), ...(c.kv ? { kv: shell(c.kv) } : {}), hosts: byHost(c.hosts), images: byHost(c.images) };
}

/** The verifier as a command: reads the plan from LAB_PLAN_JSON (set by the Verification component). */
export function verifyStep(): ShellStep {
  return { id: "verify", create: "npx --no-install tsx src/cli/verify.ts --plan-env LAB_PLAN_JSON --json", delete: "true" };
}

export function labSteps(plan: LabPlan, env: NodeJS.ProcessEnv = process.env): LabSteps {
  return {
    ...(plan.hostKind === "netns" ? { netns: netnsShellSteps(plan, env) } : {}),
    ...(plan.verification.enabled ? { verify: verifyStep() } : {}),
  };
}
