// What a running dind lab lets in, under the real engine: each host's API answers the lab's client
// certificate (through the line the outputs print for the docker CLI) and nobody else: not an
// unprivileged local user, not a client without the certificate, not a workload container over the
// underlay. The certificates' keys appear in nothing `pulumi up` printed, and in no file but the
// client's own key file, which only its owner can read.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { REPO_ROOT } from "../../src/lab/run.js";
import type { LabPlan } from "../../src/model/index.js";
import { apiAnswered, probeApi } from "../security/apiProbe.js";
import { filesContaining, needleOf, readableByNobody } from "../security/secrets.js";
import { OUTER_EXEC } from "./dind.js";
import type { LabStack } from "./harness.js";

const DOCKER = existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker";

/** `export A=x B=y` -> { A: x, B: y } (the values the outputs print need no quoting). */
export function parseExportLine(line: string): Record<string, string> {
  expect(line).toMatch(/^export /);
  return Object.fromEntries(
    line
      .slice("export ".length)
      .split(" ")
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
}

/** The docker CLI where the lab's ports are, with a host's pasted environment (its -H wins over outer-exec's DOCKER_HOST). */
function dockerAs(env: Record<string, string>, args: string[]): string {
  return execFileSync(OUTER_EXEC, [DOCKER, "-H", env["DOCKER_HOST"]!, ...args], {
    encoding: "utf8",
    env: { ...process.env, DOCKER_TLS_VERIFY: env["DOCKER_TLS_VERIFY"], DOCKER_CERT_PATH: env["DOCKER_CERT_PATH"] },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  }).trim();
}

/** out: the stack's outputs; printed: what its up printed (default: the harness's last up()). */
export function assertDindLocked(lab: LabStack, out: Record<string, unknown>, outerHost: string, printed: string = lab.printed): void {
  const plan: LabPlan = lab.plan;
  expect(printed).toMatch(/created/);
  const hosts = out["hosts"] as Record<string, { endpoint: string; dockerCli?: string }>;
  const certPath = join(REPO_ROOT, plan.tls!.clientDir);
  const envs = new Map<string, Record<string, string>>();
  for (const h of plan.hosts) {
    const env = parseExportLine(hosts[h.name]!.dockerCli!);
    expect(env).toEqual({ DOCKER_HOST: h.endpoint, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certPath });
    // The stock docker CLI, set up as the line says, reaches the host.
    expect(dockerAs(env, ["info", "--format", "{{.Name}}"])).toBe(h.name);
    envs.set(h.name, env);
  }
  // The client's files: the directory and every file readable by their owner only.
  expect(statSync(certPath).mode & 0o777).toBe(0o700);
  for (const f of ["ca.pem", "cert.pem", "key.pem"]) expect(statSync(join(certPath, f)).mode & 0o777, f).toBe(0o600);

  const under = [OUTER_EXEC];
  const client = {
    ca: readFileSync(join(certPath, "ca.pem"), "utf8"),
    cert: readFileSync(join(certPath, "cert.pem"), "utf8"),
    key: readFileSync(join(certPath, "key.pem"), "utf8"),
  };
  for (const h of plan.hosts) {
    const published = { host: "127.0.0.1", port: h.publishedApiPort! };
    expect(apiAnswered(probeApi({ ...published, tls: client }, { under })), `${h.name}: the probe with the client certificate`).toBe(true);
    const o = { under, asNobody: true };
    expect(apiAnswered(probeApi(published, o)), `nobody: plain ${h.endpoint}`).toBe(false);
    expect(probeApi({ ...published, tls: {} }, o), `nobody: TLS without a certificate on ${h.endpoint}`).toMatch(/^(error|closed)/);
    expect(probeApi({ host: h.address, port: 2375 }, o), `nobody: ${h.address}:2375`).toMatch(/^error: ECONNREFUSED/);
    expect(probeApi({ host: h.address, port: 2376, tls: {} }, o), `nobody: ${h.address}:2376`).toMatch(/^(error|closed)/);
  }
  // From every workload toward every host's underlay address: no API on 2375 (nothing listens) or 2376 (TLS only).
  for (const w of plan.workloads) {
    const env = envs.get(w.host)!;
    for (const h of plan.hosts) {
      for (const port of [2375, 2376]) {
        let r: string;
        try {
          r = dockerAs(env, ["exec", w.name, "timeout", "5", "wget", "-q", "-O", "-", `http://${h.address}:${port}/_ping`]);
        } catch (e) {
          r = `failed: ${String((e as { stderr?: string }).stderr ?? "").trim()}`;
        }
        expect(r, `${w.name} -> ${h.address}:${port}`).toMatch(/^failed/);
      }
    }
  }

  // Secrets: the client's key and a host's server key.
  const serverKey = execFileSync(
    OUTER_EXEC,
    [DOCKER, "-H", outerHost, "exec", `${plan.name}-${plan.hosts[0]!.name}`, "cat", "/certs/server/key.pem"],
    {
      encoding: "utf8",
    },
  );
  const roots = [join(REPO_ROOT, ".lab"), ...lab.engineDirs()];
  for (const [what, secret, allowed] of [
    ["the client key", client.key, [join(certPath, "key.pem")]],
    ["a server key", serverKey, []],
  ] as const) {
    const needle = needleOf(secret);
    expect(needle.length).toBeGreaterThan(40);
    expect(printed.includes(needle), `${what} in pulumi up's output`).toBe(false);
    const holding = filesContaining(roots, needle);
    expect(holding, `files holding ${what}`).toEqual([...allowed]);
    for (const f of holding) expect(readableByNobody(f), `${f} readable by nobody`).toBe(false);
  }
}
