// Where a secret ends up: every file under some roots that holds it, and whether an unprivileged local
// user (nobody, no groups) can read such a file. A secret is looked for by a piece of it that survives
// JSON escaping and line wrapping (a line of a PEM key's base64, else the text itself).
import { execFileSync } from "node:child_process";
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * What to search for: a PEM block's middle line of base64 (its first lines can be a header every key
 * of the kind shares), else the whole text.
 */
export function needleOf(secret: string): string {
  const body = secret
    .trim()
    .split("\n")
    .filter((l) => !l.startsWith("-----"))
    .map((l) => l.trim());
  if (secret.trim().startsWith("-----BEGIN") && body.length > 0) return body[Math.floor(body.length / 2)]!;
  return secret.trim();
}

/** Every regular file under `roots` whose bytes contain the needle (files over 16 MB, the plugin binaries, are skipped). */
export function filesContaining(roots: readonly string[], needle: string): string[] {
  const found: string[] = [];
  const walk = (p: string): void => {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) walk(join(p, e));
    } else if (st.isFile() && st.size <= 16 << 20) {
      if (readFileSync(p).includes(needle)) found.push(p);
    }
  };
  for (const r of roots) walk(r);
  return found.sort();
}

/** Whether `nobody` (no groups) can read the file: what any local user without privileges can do. */
export function readableByNobody(path: string): boolean {
  try {
    execFileSync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", "cat", path], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
