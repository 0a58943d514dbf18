// Real machines over SSH, played by netns hosts: an sshd runs inside each host's network namespace
// (own config, host key, key-only auth, port 22 on the host's 198.18 address) and the test drives
// scripts/remote/docker-daemon.sh over REAL ssh from the lab switch's namespace, exactly as the model
// renders it (src/model/remoteCommands.ts). The hosts start as swarm-mode netns hosts (no cluster
// store); applying the kv plan turns them into the article's classic-overlay hosts, restore undoes it.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { run, type RunResult, sleep, tail } from "../../src/lab/run.js";
import { docker, dockerOk } from "../../src/lab/workloads.js";
import {
  buildPlan,
  type HostPlan,
  hostDaemonCalls,
  type LabConfigInput,
  netnsCommands,
  REMOTE_SCRIPTS,
  type RemoteCommandOptions,
  remoteShell,
  type ScriptCall,
} from "../../src/model/index.js";
import { tcpListeners } from "../security/listeners.js";
import { describeRealLab, findBinary } from "./gate.js";
import { useNetnsLab } from "./harness.js";
import {
  daemonJsonFile,
  ensureRunSshd,
  mustRun,
  netnsRemoteOptions,
  remoteStateDir,
  sshdDir,
  sshFrom,
  startSshd,
  stopSshd,
} from "./sshd.js";

const LAB = "sh1";
const config: LabConfigInput = {
  name: LAB,
  overlayMode: "swarm",
  networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" }],
  workloads: [],
};
const T = 180_000;

describeRealLab(
  "ssh hosts: reversible daemon configuration over real ssh",
  () => {
    const lab = useNetnsLab(config);
    const plan = lab.plan;
    // The same lab in kv mode: its KV step (etcd in <lab>-kv) and the daemon settings to apply.
    const kvPlan = buildPlan({ ...config, hostKind: "netns", overlayMode: "kv", kv: { kind: "etcd" } });
    const kvStep = netnsCommands(kvPlan).kv!;
    const [h1, h2] = plan.hosts as [HostPlan, HostPlan];
    const sw = plan.netns!.switchNamespace;
    const clientKey = (): string => `${sshdDir(h1)}/client_key`;
    const scriptText = readFileSync(REMOTE_SCRIPTS.daemon, "utf8");
    let removeRunSshd = (): void => {};
    let kvUp = false;

    // The kv plan's host (same names and paths as the running swarm-mode host, plus the cluster store).
    const calls = (h: HostPlan, extra: Partial<RemoteCommandOptions> = {}) =>
      hostDaemonCalls(kvPlan, kvPlan.hosts[h.index]!, netnsRemoteOptions(extra));
    const withEnv = (c: ScriptCall, env: Record<string, string>): ScriptCall => ({ ...c, env: { ...c.env, ...env } });

    /** One client key, in h1's sshd dir, logs in to both hosts. */
    const ssh = (h: HostPlan, command: string): Promise<RunResult> => sshFrom(sw, clientKey(), h, command);
    const remote = (h: HostPlan, c: ScriptCall): Promise<RunResult> => ssh(h, remoteShell(c, scriptText, { sudo: false }));
    async function remoteOk(h: HostPlan, c: ScriptCall): Promise<string> {
      const r = await remote(h, c);
      if (r.code !== 0) throw new Error(`${c.args[0]} on ${h.name} failed (exit ${r.code}):\n${tail(r, 40)}`);
      return r.stdout;
    }

    const pidOf = (h: HostPlan): number => Number(readFileSync(h.netns!.pidFile, "utf8").trim());
    const cmdlineOf = (h: HostPlan): string => readFileSync(`/proc/${pidOf(h)}/cmdline`, "utf8");
    const clusterStore = async (h: HostPlan): Promise<string> => (await dockerOk(h, ["info", "--format", "{{.ClusterStore}}"])).trim();
    const sha256 = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");
    async function kvNodes(): Promise<string> {
      // The KV as Docker's libkv wrote it (etcd v2 API), read from inside the lab.
      const r = await run([
        "nsenter",
        `--net=/run/netns/${sw}`,
        "busybox",
        "wget",
        "-qO-",
        `http://${kvPlan.kv!.address}:${kvPlan.kv!.port}/v2/keys/docker/nodes`,
      ]);
      return r.stdout;
    }

    beforeAll(async () => {
      removeRunSshd = ensureRunSshd();
      await mustRun(kvStep.create);
      kvUp = true;
      await startSshd(h1, clientKey());
      await startSshd(h2, clientKey());
    }, T);

    afterAll(async () => {
      // Whatever a failed test left applied is restored first (restore is harmless when nothing is).
      for (const h of [h1, h2]) {
        if (existsSync(`${remoteStateDir(h)}/applied`)) await remote(h, calls(h).restore);
      }
      await stopSshd(h1);
      await stopSshd(h2);
      if (kvUp) await mustRun(kvStep.delete);
      removeRunSshd();
    }, T);

    // h1 starts with a daemon.json of its own (odd formatting, keys the lab does not own); h2 has none.
    const originalJson = '{ "labels" : ["dnlab-origin=h1"],\n\t"log-level":"info" }\n';
    const before = { sha: "", mode: 0, mtimeMs: 0, argv: ["", ""], pids: [0, 0] };
    const tool = findBinary("jq") ? "jq" : findBinary("python3") ? "python3" : "none";

    it(
      "sshd answers on each host's 198.18 address with key-only auth",
      async () => {
        for (const h of [h1, h2]) {
          const r = await ssh(h, "hostname; ip -4 -o addr show dev eth0");
          expect(r.code, tail(r)).toBe(0);
          expect(r.stdout).toContain(h.name);
          expect(r.stdout).toContain(`${h.address}/24`);
        }
      },
      T,
    );

    it(
      "apply: the daemons get the cluster store, keep unowned keys, and register in the KV",
      async () => {
        writeFileSync(daemonJsonFile(h1), originalJson, { mode: 0o640 });
        const st = statSync(daemonJsonFile(h1));
        Object.assign(before, {
          sha: sha256(daemonJsonFile(h1)),
          mode: st.mode,
          mtimeMs: st.mtimeMs,
          argv: [cmdlineOf(h1), cmdlineOf(h2)],
          pids: [pidOf(h1), pidOf(h2)],
        });
        expect(await clusterStore(h1)).toBe("");

        // h2 merges with python3 when the host has it: both JSON tools are exercised.
        const h2Tool = findBinary("python3") ? "python3" : tool;
        const out1 = await remoteOk(h1, calls(h1).apply);
        const out2 = await remoteOk(h2, withEnv(calls(h2).apply, { DNLAB_JSON_TOOL: h2Tool }));
        const method = tool === "none" ? "flags" : "daemon-json";
        expect(out1).toContain(`changed=1 method=${method} init=pidfile version=20.10`);
        expect(out2).toContain("changed=1");

        for (const h of [h1, h2]) {
          expect(await clusterStore(h)).toBe(kvPlan.kv!.url);
          expect(pidOf(h)).not.toBe(before.pids[h.index]);
        }
        // Both daemons registered as docker/nodes/<advertise address> (the script waited for it).
        const nodes = await kvNodes();
        expect(nodes).toContain(`docker/nodes/${h1.address}:2376`);
        expect(nodes).toContain(`docker/nodes/${h2.address}:2376`);
        if (method === "daemon-json") {
          const merged = JSON.parse(readFileSync(daemonJsonFile(h1), "utf8")) as Record<string, unknown>;
          expect(merged).toMatchObject({ labels: ["dnlab-origin=h1"], "log-level": "info", ...kvPlan.hosts[0]!.daemon.daemonJson });
          expect(JSON.parse(readFileSync(daemonJsonFile(h2), "utf8"))).toEqual(kvPlan.hosts[1]!.daemon.daemonJson);
          // The unowned key is in force: the label shows in docker info.
          expect(await dockerOk(h1, ["info", "--format", "{{json .Labels}}"])).toContain("dnlab-origin=h1");
          // The lab's flags left the command line (they are in the file now; dockerd refuses both).
          expect(cmdlineOf(h1)).not.toContain("--bip");
        }
        const status = await remoteOk(h1, calls(h1).status);
        expect(status).toContain("applied=yes");
        expect(status).toContain(`cluster_store=${kvPlan.kv!.url}`);
      },
      T,
    );

    it(
      "the lab opens no TCP listener for the machines' Docker APIs: --cluster-advertise eth0:2376 advertises, nothing listens on 2375 or 2376",
      async () => {
        for (const h of [h1, h2]) {
          expect(await clusterStore(h)).toBe(kvPlan.kv!.url);
          expect(kvPlan.hosts[h.index]!.daemon.clusterAdvertise).toBe("eth0:2376");
          // dockerd's only TCP listener is the classic overlay's gossip (serf); its API stays on the unix socket.
          const ports = tcpListeners(`/run/netns/${h.netns!.namespace}`, pidOf(h)).map((l) => l.port);
          expect(ports, h.name).toEqual([7946]);
          // Nor anything else of the machine on Docker's ports.
          const all = await run(["nsenter", `--net=/run/netns/${h.netns!.namespace}`, "ss", "-Hltn", "sport = :2375 or sport = :2376"]);
          expect(all.stdout.trim(), h.name).toBe("");
        }
      },
      T,
    );

    it(
      "the classic overlay works between the two hosts (network via the KV, ping by name)",
      async () => {
        await dockerOk(h1, ["network", "create", "-d", "overlay", "--subnet", "198.18.100.0/24", "ov_net1"]);
        let seen = "";
        for (let i = 0; i < 50 && !seen.includes("ov_net1"); i++) {
          seen = (await docker(h2, ["network", "ls", "--filter", "name=ov_net1", "--format", "{{.Name}} {{.Scope}}"])).stdout;
          if (!seen.includes("ov_net1")) await sleep(200);
        }
        expect(seen.trim()).toBe("ov_net1 global");
        await dockerOk(h1, [
          "run",
          "-d",
          "--name",
          "test1",
          "--hostname",
          "test1",
          "--network",
          "ov_net1",
          "busybox:latest",
          "sleep",
          "3600",
        ]);
        let r: RunResult | undefined;
        for (let i = 0; i < 10; i++) {
          r = await docker(h2, [
            "run",
            "--rm",
            "--name",
            "test2",
            "--network",
            "ov_net1",
            "busybox:latest",
            "ping",
            "-c",
            "2",
            "-W",
            "2",
            "test1",
          ]);
          if (r.code === 0) break;
          await sleep(1000);
        }
        expect(r!.code, tail(r!)).toBe(0);
        expect(r!.stdout).toMatch(/2 packets received/);
        expect(r!.stdout).toMatch(/PING test1 \(198\.18\.100\.\d+\)/);
      },
      T,
    );

    it(
      "apply again: nothing changes, no restart (same dockerd pids)",
      async () => {
        const pids = [pidOf(h1), pidOf(h2)];
        const json1 = readFileSync(daemonJsonFile(h1));
        const out1 = await remoteOk(h1, calls(h1).apply);
        const out2 = await remoteOk(h2, calls(h2).apply);
        expect(out1).toContain("changed=0");
        expect(out2).toContain("changed=0");
        expect([pidOf(h1), pidOf(h2)]).toEqual(pids);
        expect(readFileSync(daemonJsonFile(h1)).equals(json1)).toBe(true);
        // The container started before is still running: the daemon was not touched.
        expect((await dockerOk(h1, ["inspect", "-f", "{{.State.Running}}", "test1"])).trim()).toBe("true");
      },
      T,
    );

    it(
      "restart (the verifier's recovery of a stuck daemon): a new dockerd, same command line, in the KV again; nothing written",
      async () => {
        const [pid, argv, json] = [pidOf(h1), cmdlineOf(h1), readFileSync(daemonJsonFile(h1))];
        const r = await remote(h1, calls(h1).restart);
        expect(r.code, tail(r, 40)).toBe(0);
        expect(r.stderr).toContain("restarted");
        expect(pidOf(h1)).not.toBe(pid);
        expect(cmdlineOf(h1)).toBe(argv);
        expect(readFileSync(daemonJsonFile(h1)).equals(json)).toBe(true);
        expect(await clusterStore(h1)).toBe(kvPlan.kv!.url);
        expect(await kvNodes()).toContain(`${h1.address}:2376`);
      },
      T,
    );

    it(
      "restore: files byte-identical, daemons back on their original command lines; twice is harmless",
      async () => {
        await dockerOk(h1, ["rm", "-f", "test1"]);
        await dockerOk(h1, ["network", "rm", "ov_net1"]);
        for (const h of [h1, h2]) {
          await remoteOk(h, calls(h).restore);
          const again = await remote(h, calls(h).restore);
          expect(again.code, tail(again)).toBe(0);
          expect(again.stderr).toContain("nothing to restore");
        }
        expect(sha256(daemonJsonFile(h1))).toBe(before.sha);
        const st = statSync(daemonJsonFile(h1));
        expect(st.mode).toBe(before.mode);
        expect(st.mtimeMs).toBe(before.mtimeMs);
        expect(existsSync(daemonJsonFile(h2))).toBe(false);
        expect([cmdlineOf(h1), cmdlineOf(h2)]).toEqual(before.argv);
        expect(await clusterStore(h1)).toBe("");
        expect(await clusterStore(h2)).toBe("");
        expect(existsSync(remoteStateDir(h1))).toBe(false);
        // The lab's overlay made docker_gwbridge (from the lab's address pool) on hosts that had none: gone.
        for (const h of [h1, h2]) expect((await docker(h, ["network", "inspect", "docker_gwbridge"])).code, h.name).not.toBe(0);
        rmSync(daemonJsonFile(h1));
      },
      T,
    );

    it(
      "without jq/python3 on the host: the flags method (original command line + the lab's flags), restored",
      async () => {
        const original = cmdlineOf(h2);
        const noJson = (c: ScriptCall): ScriptCall => withEnv(c, { DNLAB_JSON_TOOL: "none" });
        const out = await remoteOk(h2, noJson(calls(h2).apply));
        expect(out).toContain("changed=1 method=flags");
        const argv = cmdlineOf(h2).split("\0");
        expect(argv).toContain(`--cluster-store=${kvPlan.kv!.url}`);
        // The lab's flags appear once: the originals were dropped, not duplicated.
        expect(argv.filter((a) => a === "--bip")).toHaveLength(1);
        expect(await clusterStore(h2)).toBe(kvPlan.kv!.url);
        const pid = pidOf(h2);
        expect(await remoteOk(h2, noJson(calls(h2).apply))).toContain("changed=0");
        expect(pidOf(h2)).toBe(pid);
        // Switching method without a restore is refused (exit 5), nothing changes.
        const sw = await remote(h2, calls(h2, { method: "daemon-json" }).apply);
        expect(sw.code).toBe(5);
        expect(sw.stderr).toContain("run restore before applying with daemon-json");
        await remoteOk(h2, calls(h2).restore);
        expect(cmdlineOf(h2)).toBe(original);
        expect(existsSync(daemonJsonFile(h2))).toBe(false);
      },
      T,
    );

    it(
      "kv mode on Docker >= 23 is refused before anything changes (exit 3, names the fix)",
      async () => {
        const fakeDir = `${h1.netns!.stateDir}/fake-bin`;
        mkdirSync(fakeDir, { recursive: true });
        writeFileSync(`${fakeDir}/dockerd`, '#!/bin/sh\necho "Docker version 24.0.7, build afdd53b"\n', { mode: 0o755 });
        const fakePath = { PATH: `${fakeDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` };
        const pid = pidOf(h1);
        const r = await remote(h1, withEnv(calls(h1).apply, fakePath));
        const status = await remote(h1, withEnv(calls(h1).status, fakePath));
        rmSync(fakeDir, { recursive: true });
        expect(r.code, tail(r)).toBe(3);
        expect(r.stderr).toMatch(/Docker 24\.0\.7 removed --cluster-store/);
        expect(r.stderr).toContain("overlay mode swarm");
        expect(existsSync(remoteStateDir(h1))).toBe(false);
        expect(pidOf(h1)).toBe(pid);
        // The version came from the dockerd on PATH (the binary a restart would run).
        expect(status.stdout).toContain("docker_version=24.0.7");
      },
      T,
    );
  },
  { binaries: ["sshd", "ssh", "ssh-keygen"] },
);

// systemd hosts cannot be reached here (no systemd on the test machines): the same script against
// stand-ins for systemctl, dockerd --version and the docker CLI, which log every call. What is real:
// the drop-in it writes, its backup/restore, and which systemctl calls it makes when.
describeRealLab("docker-daemon.sh on a systemd host (stand-in systemctl)", () => {
  const dir = mkdtempSync(join(tmpdir(), "dnlab-systemd-"));
  const bin = `${dir}/bin`;
  const logFile = `${dir}/calls.log`;
  const dropin = `${dir}/docker.service.d/dnlab.conf`;
  const stateDir = `${dir}/state`;
  const originalDropin = "[Service]\nEnvironment=SITE=1\n";
  const execStart = "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock --bip 10.1.0.1/24";
  const labFlags = ["--bip", "198.19.0.1/24", "--default-address-pool", "base=198.19.128.0/17,size=24", "--label", "note=50% $HOME x"];

  beforeAll(() => {
    mkdirSync(bin, { recursive: true });
    mkdirSync(dirname(dropin), { recursive: true });
    writeFileSync(
      `${bin}/systemctl`,
      [
        "#!/bin/sh",
        `echo "systemctl $*" >> ${logFile}`,
        'case "$1" in',
        '  show) echo "{ path=/usr/bin/dockerd ; argv[]=$FAKE_EXECSTART ; ignore_errors=no ; start_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }" ;;',
        "  is-active) exit 0 ;;",
        "esac",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    writeFileSync(`${bin}/docker`, `#!/bin/sh\necho "docker $*" >> ${logFile}\necho 20.10.24\n`, { mode: 0o755 });
    writeFileSync(`${bin}/dockerd`, '#!/bin/sh\necho "Docker version 20.10.24, build fake"\n', { mode: 0o755 });
    writeFileSync(dropin, originalDropin, { mode: 0o644 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const common = (jsonFile = `${dir}/daemon.json`): string[] => [
    "--state-dir",
    stateDir,
    "--daemon-json-file",
    jsonFile,
    "--dropin-file",
    dropin,
    "--docker-host",
    "unix:///nonexistent.sock",
    "--init",
    "systemd",
    "--timeout",
    "5",
  ];
  async function script(args: string[], execStartLine = execStart): Promise<RunResult & { calls: string[] }> {
    writeFileSync(logFile, "");
    const r = await run(["bash", REMOTE_SCRIPTS.daemon, ...args], {
      env: {
        ...process.env,
        PATH: `${bin}:${process.env["PATH"] ?? "/usr/bin:/bin"}`,
        DNLAB_DOCKER: `${bin}/docker`,
        FAKE_EXECSTART: execStartLine,
      },
    });
    return {
      ...r,
      calls: readFileSync(logFile, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("systemctl") && !l.includes(" show ")),
    };
  }
  const apply = (method = "auto", jsonFile?: string) =>
    script([
      "apply",
      "--mode",
      "swarm",
      ...common(jsonFile),
      "--method",
      method,
      "--daemon-json",
      '{"bip":"198.19.0.1/24"}',
      "--",
      ...labFlags,
    ]);

  it("daemon-json is refused while ExecStart sets one of the lab's flags (exit 5, nothing written)", async () => {
    const r = await apply("daemon-json");
    expect(r.code, tail(r)).toBe(5);
    expect(r.stderr).toContain("Fix: use --method flags");
    expect(existsSync(stateDir)).toBe(false);
    expect(readFileSync(dropin, "utf8")).toBe(originalDropin);
    expect(r.calls).toEqual([]);
  });

  it("auto -> flags: a drop-in that replaces ExecStart (original flags minus the lab's, plus the lab's), then reload + restart", async () => {
    const r = await apply();
    expect(r.code, tail(r)).toBe(0);
    expect(r.stdout).toContain("changed=1 method=flags init=systemd");
    expect(readFileSync(dropin, "utf8")).toBe(
      [
        "# Written by dnlab docker-daemon.sh; `docker-daemon.sh restore` puts back what was here.",
        "[Service]",
        "ExecStart=",
        // systemd specifiers: % -> %%, $ -> $$; an argument with spaces is double-quoted.
        'ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock --bip 198.19.0.1/24 --default-address-pool base=198.19.128.0/17,size=24 --label "note=50%% $$HOME x"',
        "",
      ].join("\n"),
    );
    expect(r.calls).toEqual(["systemctl is-active --quiet docker.service", "systemctl daemon-reload", "systemctl restart docker.service"]);
  });

  it("apply again: no write, no restart, even though ExecStart now shows the lab's flags", async () => {
    const before = readFileSync(dropin);
    const r = await apply("auto");
    expect(r.code, tail(r)).toBe(0);
    expect(r.stdout).toContain("changed=0");
    expect(readFileSync(dropin).equals(before)).toBe(true);
    expect(r.calls).toEqual(["systemctl is-active --quiet docker.service"]);
  });

  it("restart under systemd (the verifier's recovery of a stuck daemon): reload + restart of the unit, nothing written", async () => {
    const before = readFileSync(dropin);
    const r = await script(["restart", "--mode", "swarm", ...common()]);
    expect(r.code, tail(r)).toBe(0);
    expect(r.calls).toEqual(["systemctl daemon-reload", "systemctl restart docker.service"]);
    expect(readFileSync(dropin).equals(before)).toBe(true);
  });

  it("restore: the site's own drop-in back byte for byte, reload + restart; twice is harmless", async () => {
    const r = await script(["restore", ...common()]);
    expect(r.code, tail(r)).toBe(0);
    expect(readFileSync(dropin, "utf8")).toBe(originalDropin);
    expect(r.calls).toEqual(["systemctl daemon-reload", "systemctl restart docker.service"]);
    expect(existsSync(stateDir)).toBe(false);
    const again = await script(["restore", ...common()]);
    expect(again.code).toBe(0);
    expect(again.calls).toEqual([]);
  });

  it("daemon-json under systemd: merged into the file dockerd reads; restore removes a file that was not there", async () => {
    const json = `${dir}/etc-docker/daemon.json`;
    const line = `/usr/bin/dockerd -H fd:// --config-file ${json}`;
    const args = ["apply", "--mode", "swarm", ...common(json), "--daemon-json", '{"bip":"198.19.0.1/24"}', "--", ...labFlags];
    const r = await script(args, line);
    expect(r.code, tail(r)).toBe(0);
    expect(r.stdout).toContain("changed=1 method=daemon-json");
    expect(JSON.parse(readFileSync(json, "utf8"))).toEqual({ bip: "198.19.0.1/24" });
    expect(readFileSync(dropin, "utf8")).toBe(originalDropin);
    expect(r.calls).toEqual(["systemctl is-active --quiet docker.service", "systemctl daemon-reload", "systemctl restart docker.service"]);
    const back = await script(["restore", ...common(json)], line);
    expect(back.code, tail(back)).toBe(0);
    expect(existsSync(json)).toBe(false);
    // apply had to create the directory: restore removes it again.
    expect(existsSync(dirname(json))).toBe(false);
  });
});
