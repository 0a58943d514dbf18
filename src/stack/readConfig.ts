// Pulumi config (namespace `lab`) -> LabConfigInput. Values are passed through untyped: buildPlan
// validates every one of them and names the key of anything wrong.
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, type LabConfigInput } from "../model/index.js";
import { parseValue } from "./configValues.js";

export function readLabConfig(config: pulumi.Config = new pulumi.Config("lab")): LabConfigInput {
  const input: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const raw = config.get(key);
    if (raw === undefined) continue;
    // Structured keys arrive as JSON text; scalars as plain strings.
    input[key] = parseValue(raw);
  }
  return input as LabConfigInput;
}
