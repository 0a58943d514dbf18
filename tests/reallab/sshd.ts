// Real machines over SSH, played by netns hosts: an sshd inside a host's network namespace (own config,
// host key, key-only auth, port 22 on the host's 198.18 address), reached with real ssh from the lab
// switch's namespace. Used by the suites that drive scripts/remote/ over ssh (ssh.test.ts on Debian's
// 20.10, ssh-docker26.test.ts on Docker 26). Call inside describeRealLab(...): the gate checks for
// sshd, ssh and ssh-keygen.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { expect } from "vitest";
import { run, type RunResult, sleep, tail } from "../../src/lab/run.js";
import type { HostPlan, RemoteCommandOptions } from "../../src/model/index.js";
import { findBinary } from "./gate.js";

/** Run a command; throw with the tail of its output when it fails. */
export async function mustRun(argv: readonly string[]): Promise<void> {
  const r = await run(argv, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed (exit ${r.code}):\n${tail(r, 30)}`);
}

/** Where a host's sshd keeps its config, keys, pid and log: under the lab's state dir. */
export const sshdDir = (h: HostPlan): string => `${h.netns!.stateDir}/sshd`;

/**
 * Create sshd's privilege separation directory when it is missing (Debian creates it only from its
 * service unit). Returns the cleanup: it removes the directory only if this call created it.
 */
export function ensureRunSshd(): () => void {
  if (existsSync("/run/sshd")) return () => {};
  mkdirSync("/run/sshd", { mode: 0o755 });
  return () => rmdirSync("/run/sshd");
}

/**
 * Start an sshd for `h` in sshdDir(h) that lets in root with `clientKey`. The client key is created when
 * missing, so one key can serve several hosts. `extraConfig`: more sshd_config lines (e.g. SetEnv).
 * Resolves once sshd has written its pid file.
 */
export async function startSshd(h: HostPlan, clientKey: string, extraConfig: readonly string[] = []): Promise<void> {
  const d = sshdDir(h);
  mkdirSync(d, { recursive: true });
  if (!existsSync(clientKey)) await mustRun(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", clientKey]);
  await mustRun(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", `${d}/host_key`]);
  writeFileSync(`${d}/authorized_keys`, readFileSync(`${clientKey}.pub`));
  chmodSync(`${d}/authorized_keys`, 0o600);
  writeFileSync(
    `${d}/sshd_config`,
    [
      "Port 22",
      `ListenAddress ${h.address}`,
      `HostKey ${d}/host_key`,
      `PidFile ${d}/sshd.pid`,
      `AuthorizedKeysFile ${d}/authorized_keys`,
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      // The key lives under the lab's state dir, not in a home directory.
      "StrictModes no",
      ...extraConfig,
      "",
    ].join("\n"),
  );
  // A host of its own: network namespace + UTS namespace with the host's name (a dockerd that
  // docker-daemon.sh restarts from an ssh session inherits it; overlay gossip needs unique names).
  await mustRun([
    "nsenter",
    `--net=/run/netns/${h.netns!.namespace}`,
    "unshare",
    "--uts",
    "sh",
    "-c",
    'hostname "$1"; shift; exec "$@"',
    "sh",
    h.name,
    findBinary("sshd")!,
    "-f",
    `${d}/sshd_config`,
    "-E",
    `${d}/sshd.log`,
  ]);
  for (let i = 0; i < 50 && !existsSync(`${d}/sshd.pid`); i++) await sleep(100);
  expect(existsSync(`${d}/sshd.pid`)).toBe(true);
}

/** Stop the sshd startSshd started for `h` (by its recorded pid, only if that process is still ours) and remove its dir. */
export async function stopSshd(h: HostPlan): Promise<void> {
  const d = sshdDir(h);
  const pidFile = `${d}/sshd.pid`;
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  const alive = (): boolean => existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(d);
  if (alive()) process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && alive(); i++) await sleep(100);
  rmSync(d, { recursive: true, force: true });
}

/** Where a netns host keeps the daemon.json a real host keeps in /etc/docker. */
export const daemonJsonFile = (h: HostPlan): string => `${h.netns!.stateDir}/daemon.json`;
/** docker-daemon.sh's state dir (backups, what it applied) on a netns host. */
export const remoteStateDir = (h: HostPlan): string => `${h.netns!.stateDir}/remote-state`;

/** The model's remote calls (src/model/remoteCommands.ts), pointed at the netns host's own files (a real host uses /etc/docker/daemon.json). */
export function netnsRemoteOptions(extra: Partial<RemoteCommandOptions> = {}): RemoteCommandOptions {
  return {
    paths: (h) => ({
      stateDir: remoteStateDir(h),
      daemonJsonFile: daemonJsonFile(h),
      dropinFile: `${h.netns!.stateDir}/dnlab.conf`,
      pidFile: h.netns!.pidFile,
      logFile: `${h.netns!.stateDir}/dockerd.log`,
      dockerHost: h.endpoint,
    }),
    timeoutSeconds: 90,
    dockerCli: "/usr/bin/docker",
    ...extra,
  };
}

/** Run a command on a host over real ssh, from the switch namespace `switchNs`, as root with `clientKey`. */
export function sshFrom(switchNs: string, clientKey: string, h: HostPlan, command: string): Promise<RunResult> {
  return run(
    [
      "nsenter",
      `--net=/run/netns/${switchNs}`,
      "ssh",
      "-i",
      clientKey,
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "BatchMode=yes",
      "-o",
      "LogLevel=ERROR",
      "-o",
      "ConnectTimeout=10",
      `root@${h.address}`,
      command,
    ],
    { timeoutMs: 150_000 },
  );
}
