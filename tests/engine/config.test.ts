// The real Pulumi engine reads our project and stack files (part of the README's test command; no
// provider plugins needed). For Pulumi.yaml, every shipped stack file, the README's sample stack file
// and the `pulumi config set` commands README documents, `pulumi preview` must get past the engine's
// own checks (project schema, typed config, required keys) and past the lab model: the program logs
// its plan summary, and the only thing that stops it is the provider plugin this CI cannot have.
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/lab/run.js";
import { underCi } from "../reallab/gate.js";
import { type EngineHome, engineHome, findEngine } from "./tools.js";

const run = promisify(execFile);
// Where the docs keep the sample ssh stack file and the \`pulumi config set\` examples.
const hostKinds = readFileSync(join(REPO_ROOT, "docs/host-kinds.md"), "utf8");
const configuration = readFileSync(join(REPO_ROOT, "docs/configuration.md"), "utf8");

/**
 * A stack of the project under a test-only name, its file written beside Pulumi.yaml as a user's would
 * be (the program runs from the repository, as `npm run up` runs it); removed again by the returned function.
 */
function stackFile(stack: string, text: string): () => void {
  const file = join(REPO_ROOT, `Pulumi.${stack}.yaml`);
  writeFileSync(file, text);
  return () => rmSync(file, { force: true });
}

/** A copy of Pulumi.yaml (and nothing else) in a temporary project directory, to try a broken variant. */
function projectCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "dnlab-project-"));
  copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  return dir;
}

interface Result {
  code: number;
  out: string;
}

async function pulumi(home: EngineHome, cwd: string, args: string[], input?: string): Promise<Result> {
  const child = run("pulumi", [...args, "--non-interactive"], { cwd, env: { ...process.env, ...home.env }, maxBuffer: 16 << 20 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    const r = await child;
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : 1, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

/**
 * What a preview without provider plugins must show: the engine accepted the project and the stack's
 * config, the program built the lab's plan, and stopped only at a missing plugin.
 */
function expectAcceptedUpToPlugins(r: Result, summary: RegExp): void {
  expect(r.out).not.toMatch(
    /could not unmarshal|validating stack config|missing configuration value|Invalid lab configuration|is not namespaced/,
  );
  expect(r.out).toMatch(summary);
  expect(r.out).toMatch(/no resource plugin 'pulumi-resource-(docker|command|consul)' found/);
}

function describeEngine(name: string, fn: (home: () => EngineHome) => void): void {
  const engine = findEngine();
  if (!engine.ok) {
    if (underCi()) {
      describe(name, () => it("the Pulumi engine is present", () => expect.fail(`[engine] cannot run under CI: ${engine.reason}`)));
    } else {
      console.log(`[engine] skipped: ${name}: ${engine.reason}`);
      describe.skip(name, () => fn(() => undefined as never));
    }
    return;
  }
  describe(name, () => {
    // No plugins: the point is what the engine checks without them.
    const home = engineHome(engine.value);
    fn(() => home);
  });
}

describeEngine("the real engine loads the project, the stack files and README's configuration", (home) => {
  const T = 120_000;

  it("is the pinned CLI", () => {
    const e = findEngine();
    expect(e.ok && e.value.version).toBe("v3.248.0");
  });

  const shipped = readdirSync(REPO_ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f) && !f.startsWith("Pulumi.enginetest-"));

  it("ships stack files", () => expect(shipped).toContain("Pulumi.dev.yaml"));

  it.each(shipped)(
    "%s: the engine accepts it and the program plans the lab",
    async (file) => {
      const stack = `enginetest-${file.slice("Pulumi.".length, -".yaml".length)}`;
      const remove = stackFile(stack, readFileSync(join(REPO_ROOT, file), "utf8"));
      try {
        expect((await pulumi(home(), REPO_ROOT, ["stack", "init", stack])).code).toBe(0);
        expectAcceptedUpToPlugins(await pulumi(home(), REPO_ROOT, ["preview", "--stack", stack]), /lab \S+: \d+ \w+ hosts?, overlay mode/);
      } finally {
        remove();
      }
    },
    T,
  );

  it(
    "README's sample ssh stack file, with its secret set as README says",
    async () => {
      const m = /A sample `Pulumi\.ssh\.yaml`:\n\n```yaml\n([\s\S]*?)```/.exec(hostKinds);
      expect(m, "docs/host-kinds.md has no sample Pulumi.ssh.yaml").not.toBeNull();
      const stack = "enginetest-ssh";
      const remove = stackFile(stack, m![1]!);
      try {
        expect((await pulumi(home(), REPO_ROOT, ["stack", "init", stack])).code).toBe(0);
        // README: pulumi config set --secret sshPrivateKey < ~/.ssh/lab_ed25519
        const set = /^pulumi config set --secret (\S+) < \S+$/m.exec(hostKinds);
        expect(set, "docs/host-kinds.md documents how to store the ssh key").not.toBeNull();
        const r = await pulumi(
          home(),
          REPO_ROOT,
          ["config", "set", "--secret", set![1]!, "--stack", stack],
          "-----BEGIN OPENSSH PRIVATE KEY-----\nstand-in\n-----END OPENSSH PRIVATE KEY-----\n",
        );
        expect(r.code, r.out).toBe(0);
        expect(readFileSync(join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")).toMatch(/lab:sshPrivateKey:\n\s+secure: /);
        expectAcceptedUpToPlugins(
          await pulumi(home(), REPO_ROOT, ["preview", "--stack", stack]),
          /lab lab: 2 ssh hosts, overlay mode kv \(consul at 198\.18\.0\.11:8500\)/,
        );
      } finally {
        remove();
      }
    },
    T,
  );

  it(
    "README's `pulumi config set` commands, run on a dev stack, give a configuration the program plans",
    async () => {
      const block = /<!-- config-set:begin -->\n```sh\n([\s\S]*?)```\n<!-- config-set:end -->/.exec(configuration);
      expect(block, "README has no config-set block").not.toBeNull();
      const commands = block![1]!.split("\n").filter((l) => l.startsWith("pulumi config set "));
      expect(commands.length).toBeGreaterThan(3);
      const stack = "enginetest-config-set";
      const remove = stackFile(stack, readFileSync(join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8"));
      try {
        expect((await pulumi(home(), REPO_ROOT, ["stack", "init", stack])).code).toBe(0);
        for (const c of commands) {
          // The README's shell words, as the shell would split them (single quotes only).
          const words = c
            .match(/'[^']*'|\S+/g)!
            .map((w) => w.replace(/^'(.*)'$/, "$1"))
            .slice(1);
          const r = await pulumi(home(), REPO_ROOT, [...words, "--stack", stack]);
          expect(r.code, `${c}\n${r.out}`).toBe(0);
        }
        expectAcceptedUpToPlugins(
          await pulumi(home(), REPO_ROOT, ["preview", "--stack", stack]),
          /lab lab: 3 netns hosts, overlay mode kv \(etcd at 198\.18\.0\.2:2379\), 2 networks \(ov_net1 overlay, mv_net1 macvlan\), 4 containers/,
        );
      } finally {
        remove();
      }
    },
    T,
  );

  it(
    "a typed key outside the project's namespace fails the engine, as it would have before the fix",
    async () => {
      const dir = projectCopy();
      try {
        const bad = readFileSync(join(dir, "Pulumi.yaml"), "utf8").replace(/^name: lab$/m, "name: docker-network-lab");
        writeFileSync(join(dir, "Pulumi.yaml"), bad);
        copyFileSync(join(REPO_ROOT, "Pulumi.dev.yaml"), join(dir, "Pulumi.dev.yaml"));
        await pulumi(home(), dir, ["stack", "init", "dev"]);
        const r = await pulumi(home(), dir, ["preview", "--stack", "dev"]);
        expect(r.code).not.toBe(0);
        expect(r.out).toMatch(/Configuration key 'lab:\w+' is not namespaced by the project and should not define a type/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    T,
  );
});
