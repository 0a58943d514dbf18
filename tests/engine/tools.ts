// The real Pulumi engine as a test tool: where its CLI, language host and provider plugins come from,
// and a private PULUMI_HOME + file backend per test run, so nothing of the user's Pulumi set-up is
// read or changed.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { REPO_ROOT } from "../../src/lab/run.js";
import { stringify } from "yaml";
import type { LabConfigInput } from "../../src/model/index.js";
import { findBinary } from "../reallab/binaries.js";

/** The engine this project pins (tools/pulumi, scripts/build-pulumi.sh). */
export const PULUMI_VERSION = "3.248.0";

export type Found<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface EngineBin {
  /** Directory holding `pulumi` and `pulumi-language-nodejs`; goes first on PATH. */
  binDir: string;
  version: string;
}

/**
 * The CLI and the Node.js language host: $DNLAB_PULUMI_BIN (what scripts/build-pulumi.sh prints), or
 * `pulumi` on PATH with the language host beside it or on PATH.
 */
export function findEngine(env: NodeJS.ProcessEnv = process.env): Found<EngineBin> {
  const fromEnv = env["DNLAB_PULUMI_BIN"];
  let binDir: string;
  if (fromEnv) {
    if (!existsSync(join(fromEnv, "pulumi")))
      return { ok: false, reason: `DNLAB_PULUMI_BIN=${fromEnv} has no pulumi binary (run: bash scripts/build-pulumi.sh)` };
    binDir = fromEnv;
  } else {
    const cli = findBinary("pulumi");
    if (!cli)
      return {
        ok: false,
        reason:
          "the Pulumi CLI is not installed: run `bash scripts/build-pulumi.sh` and export DNLAB_PULUMI_BIN=<the directory it prints>, or install it (https://www.pulumi.com/docs/install/)",
      };
    binDir = cli.slice(0, cli.lastIndexOf("/"));
  }
  const host = existsSync(join(binDir, "pulumi-language-nodejs"))
    ? join(binDir, "pulumi-language-nodejs")
    : findBinary("pulumi-language-nodejs");
  if (!host)
    return { ok: false, reason: `no pulumi-language-nodejs beside ${binDir}/pulumi or on PATH (scripts/build-pulumi.sh builds both)` };
  const version = execFileSync(join(binDir, "pulumi"), ["version"], {
    encoding: "utf8",
    env: { ...env, PULUMI_SKIP_UPDATE_CHECK: "true" },
  }).trim();
  return { ok: true, value: { binDir, version } };
}

export interface Plugin {
  /** Package name without scope: command, docker, consul. */
  name: string;
  /** The version the SDK package asks the engine for. */
  version: string;
}

/** The resource plugins the program needs: one per @pulumi/<provider> dependency, at that package's version. */
export function requiredPlugins(): Plugin[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  return Object.keys(pkg.dependencies)
    .filter((d) => d.startsWith("@pulumi/") && d !== "@pulumi/pulumi")
    .map((d) => {
      const installed = JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", d, "package.json"), "utf8")) as { version: string };
      return { name: d.slice("@pulumi/".length), version: installed.version };
    });
}

/**
 * Where each plugin binary is (all of them, or those named): $DNLAB_PULUMI_PLUGINS/pulumi-resource-<name>,
 * or the one the CLI installed in the user's ~/.pulumi (with internet access: `pulumi plugin install`).
 */
export function findPlugins(names?: readonly string[], env: NodeJS.ProcessEnv = process.env): Found<Record<string, string>> {
  const dir = env["DNLAB_PULUMI_PLUGINS"];
  const userHome = env["PULUMI_HOME"] ?? join(homedir(), ".pulumi");
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const p of requiredPlugins().filter((r) => !names || names.includes(r.name))) {
    const candidates = [
      ...(dir ? [join(dir, `pulumi-resource-${p.name}`)] : []),
      join(userHome, "plugins", `resource-${p.name}-v${p.version}`, `pulumi-resource-${p.name}`),
    ];
    const bin = candidates.find((c) => existsSync(c));
    if (bin) found[p.name] = bin;
    else missing.push(`${p.name} v${p.version}`);
  }
  if (missing.length > 0) {
    return {
      ok: false,
      reason:
        `missing provider plugin(s): ${missing.join(", ")}. With internet access: ` +
        requiredPlugins()
          .map((p) => `pulumi plugin install resource ${p.name} ${p.version}`)
          .join("; ") +
        `. Otherwise put pulumi-resource-<name> binaries in a directory and export DNLAB_PULUMI_PLUGINS=<dir>.`,
    };
  }
  return { ok: true, value: found };
}

export interface EngineHome {
  /** Environment for every pulumi invocation: PATH, PULUMI_HOME, backend, passphrase. */
  env: Record<string, string>;
  /** The file backend's directory. */
  stateDir: string;
  dispose(): void;
}

/**
 * A private PULUMI_HOME and file backend in a temporary directory, with the given plugins installed
 * from their binaries (never downloaded: automatic acquisition is off).
 */
export function engineHome(engine: EngineBin, plugins: Record<string, string> = {}): EngineHome {
  const root = mkdtempSync(join(tmpdir(), "dnlab-engine-"));
  const stateDir = join(root, "state");
  const env: Record<string, string> = {
    PATH: `${engine.binDir}${delimiter}${process.env["PATH"] ?? ""}`,
    PULUMI_HOME: join(root, "home"),
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: "",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // The language host from sdk v3.68.0 takes runtime options as flags, which this CLI no longer
    // passes: Pulumi.yaml's nodeargs (the tsx loader) reaches node this way (scripts/pulumi.sh does the same).
    NODE_OPTIONS: "--import tsx",
  };
  execFileSync("mkdir", ["-p", stateDir, env["PULUMI_HOME"]!]);
  const versions = new Map(requiredPlugins().map((p) => [p.name, p.version]));
  for (const [name, bin] of Object.entries(plugins)) {
    execFileSync(join(engine.binDir, "pulumi"), ["plugin", "install", "resource", name, versions.get(name) ?? "", "--file", bin], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
  }
  return { env, stateDir, dispose: () => rmSync(root, { recursive: true, force: true }) };
}

/** Text of a Pulumi.<stack>.yaml: every key under the lab namespace (as a user writes it). */
export function stackFileText(config: LabConfigInput): string {
  return stringify({ config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`lab:${k}`, v])) });
}
