// Pulumi config (namespace `lab`) -> LabConfigInput. Values are passed through untyped: buildPlan
// validates every one of them and names the key of anything wrong.
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, type HostInput, type LabConfigInput } from "../model/index.js";
import { parseValue } from "./configValues.js";

/** A key of the stack's config that the lab does not know: buildPlan refuses it by name. */
const UNKNOWN_VALUE = "(set in the stack's config)";

/**
 * The lab's keys from the stack's config, and any other `lab:` key too, so that a typo
 * (`lab:hostz`) is refused instead of silently ignored. Keys that hosts name as their ssh key's secret
 * are the stack's secrets, not lab settings. An unknown key's value is not repeated (it may be a secret).
 */
export function readLabConfig(
  config: pulumi.Config = new pulumi.Config("lab"),
  all: Record<string, string> = pulumi.runtime.allConfig(),
): LabConfigInput {
  const input: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const raw = config.get(key);
    if (raw === undefined) continue;
    // Structured keys arrive as JSON text; scalars as plain strings.
    input[key] = parseValue(raw);
  }
  const secrets = new Set(
    (Array.isArray(input["hosts"]) ? (input["hosts"] as HostInput[]) : []).flatMap((h) =>
      typeof h?.ssh?.privateKeySecret === "string" ? [h.ssh.privateKeySecret] : [],
    ),
  );
  const known = new Set<string>(CONFIG_KEYS);
  for (const full of Object.keys(all)) {
    if (!full.startsWith("lab:")) continue;
    const key = full.slice("lab:".length);
    if (!known.has(key) && !secrets.has(key)) input[key] = UNKNOWN_VALUE;
  }
  return input as LabConfigInput;
}
