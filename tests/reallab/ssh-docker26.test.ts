// scripts/remote/docker-daemon.sh on a Docker 26 machine, over real ssh: a netns host runs Debian
// trixie's dockerd 26.1.5 (scripts/fetch-docker26.sh) and an sshd in its namespace, and the script is
// driven from the lab switch's namespace exactly as the model renders it (src/model/remoteCommands.ts),
// as tests/reallab/ssh.test.ts does for Debian's 20.10. The Docker >= 23 branch: kv mode is refused with
// exit 3 before anything changes, whether the version comes from the dockerd on PATH or from the running
// daemon; swarm-mode settings are applied (daemon.json and flags methods), are in force, apply again is a
// no-op, and restore puts the original Docker 26 command line back.
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { dirname } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { downNetnsLab, isClean, labLeftovers, type NetnsLabOptions, upNetnsLab } from "../../src/lab/netnsLab.js";
import { type RunResult, tail } from "../../src/lab/run.js";
import { dockerOk } from "../../src/lab/workloads.js";
import {
  buildPlan,
  type HostPlan,
  hostDaemonCalls,
  type LabConfigInput,
  REMOTE_SCRIPTS,
  type RemoteCommandOptions,
  remoteShell,
  type ScriptCall,
} from "../../src/model/index.js";
import { DOCKER26_GATE, docker26Binary } from "./docker26.js";
import { describeRealLab } from "./gate.js";
import { assertNoLeftovers } from "./harness.js";
import { daemonJsonFile, ensureRunSshd, netnsRemoteOptions, remoteStateDir, sshdDir, sshFrom, startSshd, stopSshd } from "./sshd.js";

const LAB = "d26h";
const config: LabConfigInput = {
  name: LAB,
  hostKind: "netns",
  overlayMode: "swarm",
  hosts: [{ name: "host1", address: "198.18.0.11", dockerVersion: "26" }],
  networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" }],
  workloads: [],
};
const T = 180_000;
/** root's PATH over ssh, without any dockerd on it (/usr/sbin holds Debian's 20.10 one). */
const NO_DOCKERD_PATH = "/usr/local/bin:/usr/bin:/bin";

describeRealLab(
  "docker-daemon.sh over real ssh on a Docker 26 host",
  () => {
    const plan = buildPlan(config);
    const h = plan.hosts[0]!;
    // The kv calls of the same host as a model that believes it runs 20.10 would render them: the
    // model refuses kv on Docker 26 itself, so only the script, on the machine, can catch this one.
    const kvPlan = buildPlan({ ...config, overlayMode: "kv", kv: { kind: "etcd" }, hosts: [{ name: "host1", address: "198.18.0.11" }] });
    const sw = plan.netns!.switchNamespace;
    const clientKey = `${sshdDir(h)}/client_key`;
    const daemonJson = daemonJsonFile(h);
    const remoteState = remoteStateDir(h);
    const scriptText = readFileSync(REMOTE_SCRIPTS.daemon, "utf8");
    let docker26 = "";
    let sbin26 = "";
    let removeRunSshd = (): void => {};
    const labOpts = (): NetnsLabOptions => ({ docker26Binary: docker26 });

    /** As on a real Docker 26 machine: its dockerd is the one on PATH. */
    const onHost = (c: ScriptCall, env: Record<string, string> = {}): ScriptCall => ({
      ...c,
      env: { ...c.env, PATH: `${sbin26}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, ...env },
    });
    const swarmCalls = (extra: Partial<RemoteCommandOptions> = {}) => hostDaemonCalls(plan, h, netnsRemoteOptions(extra));
    const kvCalls = () => hostDaemonCalls(kvPlan, kvPlan.hosts[0]!, netnsRemoteOptions());

    const ssh = (command: string): Promise<RunResult> => sshFrom(sw, clientKey, h, command);
    const remote = (c: ScriptCall): Promise<RunResult> => ssh(remoteShell(c, scriptText, { sudo: false }));
    async function remoteOk(c: ScriptCall): Promise<string> {
      const r = await remote(c);
      if (r.code !== 0) throw new Error(`${c.args[0]} failed (exit ${r.code}):\n${tail(r, 40)}`);
      return r.stdout;
    }

    const pid = (): number => Number(readFileSync(h.netns!.pidFile, "utf8").trim());
    const argv = (): string[] =>
      readFileSync(`/proc/${pid()}/cmdline`, "utf8")
        .split("\0")
        .filter((a) => a !== "");
    const serverVersion = async (x: HostPlan): Promise<string> =>
      (await dockerOk(x, ["version", "--format", "{{.Server.Version}}"])).trim();

    beforeAll(async () => {
      docker26 = docker26Binary();
      sbin26 = dirname(docker26);
      if (!isClean(labLeftovers(plan))) await downNetnsLab(plan, labOpts());
      await upNetnsLab(plan, labOpts());
      removeRunSshd = ensureRunSshd();
      await startSshd(h, clientKey);
    }, T);

    afterAll(async () => {
      if (existsSync(`${remoteState}/applied`)) await remote(onHost(swarmCalls().restore));
      await stopSshd(h);
      removeRunSshd();
      await downNetnsLab(plan, labOpts());
      assertNoLeftovers(plan);
    }, T);

    const original = { argv: [] as string[], pid: 0 };

    it(
      "the host runs the fetched Docker 26 and answers over ssh",
      async () => {
        expect(readlinkSync(`/proc/${pid()}/exe`)).toBe(docker26);
        expect(await serverVersion(h)).toMatch(/^26\.1\.5/);
        const r = await ssh("hostname; ip -4 -o addr show dev eth0");
        expect(r.code, tail(r)).toBe(0);
        expect(r.stdout).toContain(h.name);
        expect(r.stdout).toContain(`${h.address}/24`);
        Object.assign(original, { argv: argv(), pid: pid() });
      },
      T,
    );

    it(
      "kv mode is refused with exit 3, the version read from the dockerd on PATH; nothing changes",
      async () => {
        const r = await remote(onHost(kvCalls().apply));
        expect(r.code, tail(r)).toBe(3);
        expect(r.stderr).toMatch(/Docker 26\.1\.5 removed --cluster-store\/--cluster-advertise \(gone since 23\.0\)/);
        expect(r.stderr).toContain("Fix: set lab:overlayMode to swarm");
        expect(existsSync(remoteState)).toBe(false);
        expect(existsSync(daemonJson)).toBe(false);
        expect(pid()).toBe(original.pid);
        expect(await remoteOk(onHost(kvCalls().status))).toContain("docker_version=26.1.5");
      },
      T,
    );

    it(
      "kv mode is refused with exit 3 too when no dockerd is on PATH: the running daemon says 26.1.5",
      async () => {
        const r = await remote(onHost(kvCalls().apply, { PATH: NO_DOCKERD_PATH }));
        expect(r.code, tail(r)).toBe(3);
        expect(r.stderr).toMatch(/Docker 26\.1\.5 removed --cluster-store/);
        expect(existsSync(remoteState)).toBe(false);
        expect(pid()).toBe(original.pid);
      },
      T,
    );

    it(
      "swarm mode, daemon-json: the lab's settings move into daemon.json, Docker 26 restarts with them and uses them",
      async () => {
        const out = await remoteOk(onHost(swarmCalls({ method: "daemon-json" }).apply));
        expect(out).toContain("changed=1 method=daemon-json init=pidfile version=26.1.5");
        expect(pid()).not.toBe(original.pid);
        expect(readlinkSync(`/proc/${pid()}/exe`)).toBe(docker26);
        expect(JSON.parse(readFileSync(daemonJson, "utf8"))).toEqual(h.daemon.daemonJson);
        const now = argv();
        expect(now).not.toContain("--bip");
        expect(now).not.toContain("--default-address-pool");
        expect(now.slice(-2)).toEqual(["--config-file", daemonJson]);
        expect(await serverVersion(h)).toMatch(/^26\.1\.5/);
        // In force: docker0 has the lab's --bip, a new network comes from the lab's address pool.
        const bridge = await dockerOk(h, ["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", "bridge"]);
        expect(bridge.trim()).toBe(`198.19.0.0/24 ${h.daemon.bip.split("/")[0]}`);
        await dockerOk(h, ["network", "create", "d26h_pool"]);
        const pooled = await dockerOk(h, ["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "d26h_pool"]);
        await dockerOk(h, ["network", "rm", "d26h_pool"]);
        expect(pooled.trim()).toMatch(/^198\.19\.(1[2-9][0-9]|2[0-5][0-9])\.0\/24$/);
        const status = await remoteOk(onHost(swarmCalls().status));
        expect(status).toContain("applied=yes");
        expect(status).toContain("method=daemon-json");
      },
      T,
    );

    it(
      "apply again: nothing changes, no restart",
      async () => {
        const before = pid();
        expect(await remoteOk(onHost(swarmCalls({ method: "daemon-json" }).apply))).toContain("changed=0");
        expect(pid()).toBe(before);
      },
      T,
    );

    it(
      "restore: Docker 26 back on its original command line, no daemon.json; twice is harmless",
      async () => {
        await remoteOk(onHost(swarmCalls().restore));
        expect(argv()).toEqual(original.argv);
        expect(readlinkSync(`/proc/${pid()}/exe`)).toBe(docker26);
        expect(existsSync(daemonJson)).toBe(false);
        expect(existsSync(remoteState)).toBe(false);
        const again = await remote(onHost(swarmCalls().restore));
        expect(again.code, tail(again)).toBe(0);
        expect(again.stderr).toContain("nothing to restore");
      },
      T,
    );

    it(
      "swarm mode, flags (no jq/python3): already in force is a no-op; new settings go once onto Docker 26's command line; restored",
      async () => {
        const noJson = { DNLAB_JSON_TOOL: "none" };
        // The daemon runs its original command line, i.e. exactly the lab's flags: nothing to change, no restart.
        const restored = pid();
        expect(await remoteOk(onHost(swarmCalls().apply, noJson))).toContain("changed=0 method=flags init=pidfile version=26.1.5");
        expect(pid()).toBe(restored);
        // Other bridge settings for the same host: a real change, made by restarting Docker 26 with them.
        const moved = buildPlan({ ...config, bridge: { bipBase: "198.19.64.0/18" } });
        const movedHost = moved.hosts[0]!;
        expect(movedHost.daemon.bip).toBe("198.19.64.1/24");
        const movedApply = onHost(hostDaemonCalls(moved, movedHost, netnsRemoteOptions()).apply, noJson);
        expect(await remoteOk(movedApply)).toContain("changed=1 method=flags init=pidfile version=26.1.5");
        const now = argv();
        expect(now[0]).toBe(docker26);
        expect(now.filter((a) => a === "--bip")).toHaveLength(1);
        expect(now[now.indexOf("--bip") + 1]).toBe("198.19.64.1/24");
        expect(now.filter((a) => a === "--default-address-pool")).toHaveLength(1);
        const bridge = await dockerOk(h, ["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "bridge"]);
        expect(bridge.trim()).toBe("198.19.64.0/24");
        const p = pid();
        expect(await remoteOk(movedApply)).toContain("changed=0");
        expect(pid()).toBe(p);
        await remoteOk(onHost(swarmCalls().restore));
        expect(argv()).toEqual(original.argv);
        expect(readlinkSync(`/proc/${pid()}/exe`)).toBe(docker26);
      },
      T,
    );
  },
  { binaries: [...DOCKER26_GATE.binaries, "sshd", "ssh", "ssh-keygen"] },
);
