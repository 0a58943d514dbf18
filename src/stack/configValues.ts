// Config values as the Pulumi engine hands them over, without the Pulumi SDK (the lab CLI reads a
// stack's config from `pulumi config --json` and must start fast).
import { CONFIG_KEYS, type LabConfigInput } from "../model/index.js";

/** Structured keys arrive as JSON text; scalars as plain strings. */
export function parseValue(raw: string): unknown {
  const t = raw.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

/** One key as `pulumi config --json` prints it: structured values also come parsed, as objectValue. */
interface PulumiConfigEntry {
  value?: string;
  objectValue?: unknown;
  secret?: boolean;
}

/**
 * The lab configuration of a stack from `pulumi config --json` (how `npm run reset` finds what the
 * stack's lab is, when the stack itself cannot be evaluated any more). Secrets are not needed.
 */
export function labConfigFromPulumiJson(json: unknown): LabConfigInput {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new Error("pulumi config --json: expected an object of keys");
  const entries = json as Record<string, PulumiConfigEntry>;
  const input: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const e = entries[`lab:${key}`];
    if (!e) continue;
    input[key] = e.objectValue !== undefined ? e.objectValue : e.value !== undefined ? parseValue(e.value) : undefined;
  }
  return input as LabConfigInput;
}
