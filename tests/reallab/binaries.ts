// Finding a tool the way the lab scripts do (PATH, then the sbin dirs), without vitest: the bench
// (bench/engineBench.ts, through tests/engine/tools.ts) uses it outside any test run.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findBinary(name: string): string | undefined {
  if (name.includes("/")) return executable(name) ? name : undefined;
  const dirs = [...(process.env["PATH"] ?? "").split(delimiter), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
  for (const d of dirs) {
    if (d && executable(join(d, name))) return join(d, name);
  }
  return undefined;
}
