// README's netns quick start, run as a new user runs it: in a fresh clone of the repository, each line of
// the block between its quickstart-netns markers exactly as written, one shell session for all of them,
// with plain `pulumi` (login --local, stack init, up, destroy) and the lab tools after it.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { isClean, labLeftovers } from "../../src/lab/netnsLab.js";
import { REPO_ROOT } from "../../src/lab/run.js";
import { buildPlan } from "../../src/model/index.js";
import { engineAndPlugins } from "./harness.js";

const exec = promisify(execFile);
/** The account's home as the password database has it (what file://~ means to pulumi). */
const REAL_HOME = userInfo().homedir;

/** The lines of README's netns quick start, as written. */
function quickstartLines(readme: string): string[] {
  const m = /<!-- quickstart-netns:begin[^>]*-->\n```sh\n([\s\S]*?)```\n<!-- quickstart-netns:end -->/.exec(readme);
  if (!m) throw new Error("README has no quickstart-netns block");
  return m[1]!
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => l !== "");
}

describe("README's netns quick start, verbatim, in a fresh clone", () => {
  const engine = engineAndPlugins(["command", "docker"]);
  const lines = quickstartLines(readFileSync(join(REPO_ROOT, "README.md"), "utf8"));
  // The stack file of the block names no lab: the default one, `lab`, in network namespaces.
  const plan = buildPlan({ hostKind: "netns" });
  const root = mkdtempSync(join(tmpdir(), "dnlab-quickstart-"));
  const clone = join(root, "repo");
  let transcript = "";

  afterAll(async () => {
    // Whatever failed above: the stack's lab goes (the clone's own destroy), and nothing may be left.
    if (!isClean(labLeftovers(plan)))
      await shell("export PULUMI_CONFIG_PASSPHRASE=; pulumi destroy --yes --stack netns").catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    expect(isClean(labLeftovers(plan))).toBe(true);
  }, 600_000);

  /**
   * Lines in the clone, as the user's shell runs them, in a home of their own: `pulumi login --local`
   * keeps the state in the account's home from the password database (file://~), whatever HOME says, so
   * the shell runs in a mount namespace of its own with a directory of this test bound over that home.
   * (unshare's mounts are private: nothing is seen outside; the namespace ends with the shell.)
   */
  async function shell(line: string): Promise<{ code: number; out: string }> {
    const home = join(root, "home");
    mkdirSync(home, { recursive: true, mode: 0o700 });
    // A user's shell: none of the variables npm and vitest set for this test process.
    const shellEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|VITEST|NODE_|INIT_CWD$)/i.test(k)));
    const env: NodeJS.ProcessEnv = {
      ...shellEnv,
      ...engine.home().env,
      HOME: REAL_HOME,
      // A root shell without sudo installed (a container, CI) runs the line's command itself.
      BASH_ENV: join(REPO_ROOT, "tests/lifecycle/sudo-as-root.sh"),
    };
    delete env["PULUMI_BACKEND_URL"]; // the block logs in itself
    delete env["PULUMI_CONFIG_PASSPHRASE"]; // the block exports it itself
    // The pinned test engine's language host (sdk v3.68.0) needs the tsx loader in NODE_OPTIONS, which a
    // current Pulumi CLI does not (Pulumi.yaml's nodeargs reach node): a \`pulumi\` first on PATH adds it
    // for pulumi alone. In the whole shell it would break \`npm ci\`, run before tsx is installed.
    delete env["NODE_OPTIONS"];
    env["PATH"] = `${join(root, "bin")}:${env["PATH"] ?? ""}`;
    try {
      const inHome = 'mount --bind "$0" "$HOME" && cd "$1" && exec bash -c "$2"';
      const r = await exec("unshare", ["--mount", "bash", "-c", inHome, home, clone, line], { env, maxBuffer: 64 << 20, timeout: 900_000 });
      return { code: 0, out: r.stdout + r.stderr };
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof x.code === "number" ? x.code : 1, out: `${x.stdout ?? ""}${x.stderr ?? ""}` };
    }
  }

  it("every line of the block succeeds as written: up verified, the tools read the lab, destroy leaves nothing", async () => {
    await exec("git", ["clone", "--quiet", "--no-hardlinks", REPO_ROOT, clone]);
    const engineBin = engine.home().env["PATH"]!.split(":")[0]!;
    mkdirSync(join(root, "bin"));
    writeFileSync(
      join(root, "bin", "pulumi"),
      `#!/bin/sh\nNODE_OPTIONS="--import tsx\${NODE_OPTIONS:+ $NODE_OPTIONS}" exec ${join(engineBin, "pulumi")} "$@"\n`,
      { mode: 0o755 },
    );
    expect(lines[0]).toMatch(/install-deps\.sh$/);
    expect(lines).toContain("pulumi login --local");
    expect(lines.some((l) => /^pulumi up\b/.test(l))).toBe(true);
    // `export` must reach the lines after it: the block runs as one script, each line checked on its own.
    const script = lines.map((l, i) => `${l}\necho "@@quickstart line ${i} exit $?"`).join("\n");
    const r = await shell(`set -o pipefail\n${script}`);
    transcript = r.out;
    const exits = [...r.out.matchAll(/^@@quickstart line (\d+) exit (\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(exits.length, r.out.slice(-4000)).toBe(lines.length);
    for (const [i, code] of exits) expect(code, `${lines[i!]}\n${r.out.slice(-6000)}`).toBe(0);
    expect(transcript).toContain("lab lab: 2 netns hosts, overlay mode kv (etcd at 198.18.0.2:2379)");
    // pulumi up: the preview first, then the update, with the verification's summary line.
    expect(transcript).toMatch(/Previewing update \(netns\)/);
    expect(transcript).toMatch(/verify: \d+ passed, 1 expected failure, 0 failed/);
    expect(transcript).toMatch(/HOSTS\n/); // npm run inspect
    expect(transcript).toMatch(/(\d+) probe\(s\) of \d+ bytes, \1 answered: delivered and answered/); // npm run trace
    expect(transcript).toMatch(/Resources:\n\s+- \d+ deleted/);
    expect(isClean(labLeftovers(plan))).toBe(true);
  }, 1_800_000);
});
