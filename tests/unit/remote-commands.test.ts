// The command lines for ssh hosts (reversible daemon configuration) and swarm mode, as the Pulumi
// components run them. The quoting is checked by running the rendered commands through a real shell.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  buildPlan,
  daemonCalls,
  defaultRemoteDaemonPaths,
  fillSwarmToken,
  hostDaemonCalls,
  kvContainerSpec,
  localShell,
  needsSudo,
  REMOTE_SCRIPTS,
  remoteShell,
  SCRIPT_HEREDOC_END,
  type ScriptCall,
  SWARM_TOKEN_ENV,
  SWARM_TOKEN_PLACEHOLDER,
  swarmCalls,
} from "../../src/model/index.js";

const sshHosts = [
  { name: "host1", address: "198.18.0.11", ssh: { user: "root", privateKeySecret: "sshKey" } },
  { name: "host2", address: "198.18.0.12", ssh: { user: "lab", port: 2222, privateKeySecret: "sshKey" } },
];
const kvPlan = buildPlan({
  name: "rl",
  hostKind: "ssh",
  overlayMode: "kv",
  kv: { kind: "etcd", external: true, address: "198.18.0.2" },
  hosts: sshHosts,
});
const swarmPlan = buildPlan({ name: "rs", hostKind: "ssh", overlayMode: "swarm", hosts: sshHosts });

/** The value following an option in an argv. */
function opt(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}
/** The arguments after the bare `--`. */
function afterDashes(args: string[]): string[] {
  const i = args.indexOf("--");
  return i < 0 ? [] : args.slice(i + 1);
}

describe("docker-daemon.sh calls for ssh hosts", () => {
  const calls = daemonCalls(kvPlan);

  it("has apply/restore/status for every ssh host, run on the host", () => {
    expect(calls.map((c) => c.host)).toEqual(["host1", "host2"]);
    for (const c of calls) {
      for (const call of [c.apply, c.restore, c.status]) {
        expect(call.where).toBe("remote");
        expect(call.script).toBe(REMOTE_SCRIPTS.daemon);
      }
      expect([c.apply.args[0], c.restore.args[0], c.status.args[0]]).toEqual(["apply", "restore", "status"]);
    }
  });

  it("passes the plan's daemon settings verbatim: daemon.json keys as JSON, flags after --", () => {
    kvPlan.hosts.forEach((h, i) => {
      const a = calls[i]!.apply.args;
      expect(opt(a, "--mode")).toBe("kv");
      expect(JSON.parse(opt(a, "--daemon-json")!)).toEqual(h.daemon.daemonJson);
      expect(afterDashes(a)).toEqual(h.daemon.args);
      expect(afterDashes(a)).toContain("--cluster-store=etcd://198.18.0.2:2379");
    });
  });

  it("waits for the KV registration under the host's advertise address", () => {
    expect(opt(calls[0]!.apply.args, "--kv-url")).toBe("etcd://198.18.0.2:2379");
    expect(opt(calls[0]!.apply.args, "--kv-node")).toBe("198.18.0.11:2376");
    expect(opt(calls[1]!.apply.args, "--kv-node")).toBe("198.18.0.12:2376");
  });

  it("then waits for the overlay driver's gossip on the host's address (a daemon that started with its KV store down gossips only later)", () => {
    expect(opt(calls[0]!.apply.args, "--gossip")).toBe("198.18.0.11:7946");
    expect(opt(calls[1]!.apply.args, "--gossip")).toBe("198.18.0.12:7946");
  });

  it("uses the standard paths of a real host, with a per-lab state dir", () => {
    const a = calls[0]!.apply.args;
    expect(opt(a, "--state-dir")).toBe("/var/lib/dnlab-remote/rl");
    expect(opt(a, "--daemon-json-file")).toBe("/etc/docker/daemon.json");
    expect(opt(a, "--dropin-file")).toBe("/etc/systemd/system/docker.service.d/dnlab.conf");
    expect(opt(a, "--docker-host")).toBe("unix:///var/run/docker.sock");
    expect(opt(a, "--init")).toBe("auto");
    expect(opt(a, "--method")).toBe("auto");
    // restore finds the same state dir and must not carry settings.
    const r = calls[0]!.restore.args;
    expect(opt(r, "--state-dir")).toBe("/var/lib/dnlab-remote/rl");
    expect(r).not.toContain("--");
    expect(r).not.toContain("--daemon-json");
  });

  it("Consul on host1 (host network, as in the article) serves its API on host1's underlay address only, never 0.0.0.0", () => {
    const plan = buildPlan({ name: "rc", hostKind: "ssh", overlayMode: "kv", hosts: sshHosts });
    expect(plan.kv).toMatchObject({ provision: "host-container", runsOn: "host1", address: "198.18.0.11", published: false });
    const spec = kvContainerSpec(plan, plan.kv!);
    expect(spec.hostNetwork).toBe(true);
    expect(spec.ports).toEqual([]);
    expect(spec.command).toContain("-client=198.18.0.11");
    expect(spec.command).toContain("-bind=198.18.0.11");
    expect(spec.command?.join(" ")).not.toContain("0.0.0.0");
  });

  it("swarm mode: no KV wait, no cluster-store", () => {
    const a = daemonCalls(swarmPlan)[0]!.apply.args;
    expect(opt(a, "--mode")).toBe("swarm");
    expect(a).not.toContain("--kv-url");
    expect(a.join(" ")).not.toContain("cluster-store");
  });

  it("non-ssh plans have no daemon calls; a test lab overrides paths, init and method", () => {
    const netns = buildPlan({ name: "sh1", hostKind: "netns", overlayMode: "kv", kv: { kind: "etcd" } });
    expect(daemonCalls(netns)).toEqual([]);
    const h = netns.hosts[0]!;
    const c = hostDaemonCalls(netns, h, {
      paths: (x) => ({ stateDir: `${x.netns!.stateDir}/remote`, pidFile: x.netns!.pidFile, dockerHost: x.endpoint }),
      init: "pidfile",
      method: "flags",
      timeoutSeconds: 90,
      dockerCli: "/usr/bin/docker",
    });
    expect(opt(c.apply.args, "--pidfile")).toBe(h.netns!.pidFile);
    expect(opt(c.apply.args, "--docker-host")).toBe(h.endpoint);
    expect(opt(c.apply.args, "--daemon-json-file")).toBe(defaultRemoteDaemonPaths(netns).daemonJsonFile);
    expect(opt(c.apply.args, "--init")).toBe("pidfile");
    expect(opt(c.apply.args, "--method")).toBe("flags");
    expect(opt(c.apply.args, "--timeout")).toBe("90");
    expect(c.apply.env).toEqual({ DNLAB_DOCKER: "/usr/bin/docker" });
  });
});

describe("ssh hosts whose Docker lives elsewhere (hosts[].ssh.docker)", () => {
  it("docker-daemon.sh edits and restarts that Docker: daemon.json, pidfile, socket and log as configured", () => {
    const docker = {
      daemonJson: "/srv/h1/daemon.json",
      pidFile: "/run/h1/docker.pid",
      socket: "unix:///run/h1/docker.sock",
      logFile: "/srv/h1/dockerd.log",
    };
    const plan = buildPlan({
      name: "rd",
      hostKind: "ssh",
      overlayMode: "swarm",
      hosts: [{ ...sshHosts[0]!, ssh: { ...sshHosts[0]!.ssh, docker } }, sshHosts[1]!],
    });
    const [a, b] = daemonCalls(plan);
    expect([
      opt(a!.apply.args, "--daemon-json-file"),
      opt(a!.apply.args, "--pidfile"),
      opt(a!.apply.args, "--docker-host"),
      opt(a!.apply.args, "--log-file"),
    ]).toEqual([docker.daemonJson, docker.pidFile, docker.socket, docker.logFile]);
    // The other host keeps the defaults.
    expect(opt(b!.apply.args, "--daemon-json-file")).toBe(defaultRemoteDaemonPaths(plan).daemonJsonFile);
  });

  it("refuses relative paths and a socket that is not unix://, naming the key", () => {
    const bad = { daemonJson: "etc/daemon.json", socket: "tcp://1.2.3.4:2375", colour: "red" };
    let message = "";
    try {
      buildPlan({ hostKind: "ssh", overlayMode: "swarm", hosts: [{ ...sshHosts[0]!, ssh: { ...sshHosts[0]!.ssh, docker: bad } }] });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('lab:hosts[0].ssh.docker.daemonJson = "etc/daemon.json": must be an absolute path on the host');
    expect(message).toContain('lab:hosts[0].ssh.docker.socket = "tcp://1.2.3.4:2375": must be a unix socket URL');
    expect(message).toContain("lab:hosts[0].ssh.docker.colour");
  });
});

describe("swarm calls", () => {
  it("refuses a kv-mode plan, naming the setting and the fix", () => {
    expect(() => swarmCalls(kvPlan)).toThrow(/lab:overlayMode = "kv".*Fix: set lab:overlayMode to swarm/);
  });

  it("ssh hosts: init on the manager with the plan's pool, join per worker, leave workers first", () => {
    const s = swarmCalls(swarmPlan);
    expect(s.manager).toBe("host1");
    expect(s.init).toMatchObject({ host: "host1", where: "remote", script: REMOTE_SCRIPTS.swarmInit });
    expect(s.init.args).toEqual(["unix:///var/run/docker.sock", "198.18.0.11", "198.18.128.0/17", "24"]);
    expect(s.join).toHaveLength(1);
    expect(s.join[0]).toMatchObject({ host: "host2", where: "remote", script: REMOTE_SCRIPTS.swarmJoin });
    expect(s.join[0]!.args).toEqual(["unix:///var/run/docker.sock", "198.18.0.11:2377", "198.18.0.12"]);
    // The token is never an argument: it is a placeholder in the environment, filled from a secret.
    expect(s.join[0]!.env).toEqual({ [SWARM_TOKEN_ENV]: SWARM_TOKEN_PLACEHOLDER });
    expect(s.join[0]!.args.join(" ")).not.toContain(SWARM_TOKEN_PLACEHOLDER);
    expect(s.leave.map((c) => c.host)).toEqual(["host2", "host1"]);
  });

  it("init runs on the manager with the plan's address pool, against the host's socket", () => {
    const plan = buildPlan({
      name: "rs",
      hostKind: "netns",
      overlayMode: "swarm",
      swarm: { defaultAddrPool: "198.18.192.0/18", maskLength: 26 },
      networks: [
        { name: "ov_a", driver: "overlay", subnet: "198.18.100.0/24", mtu: 1400 },
        { name: "mv", driver: "macvlan", subnet: "198.18.0.0/24", ipRangePool: "198.18.0.128/25" },
      ],
      workloads: [{ name: "a", host: "host1", networks: ["ov_a"] }],
    });
    const s = swarmCalls(plan);
    // netns hosts: run here, against the host's unix socket.
    expect(s.init.where).toBe("local");
    expect(s.init.args).toEqual([plan.hosts[0]!.endpoint, "198.18.0.11", "198.18.192.0/18", "26"]);
    expect(localShell(s.init)).toBe(`bash scripts/swarm/init.sh unix://${plan.hosts[0]!.netns!.socket} 198.18.0.11 198.18.192.0/18 26`);
  });

  it("fillSwarmToken replaces the placeholder and rejects what is not a token", () => {
    const s = swarmCalls(swarmPlan);
    const cmd = remoteShell(s.join[0]!, "true\n", { sudo: true });
    const filled = fillSwarmToken(cmd, "SWMTKN-1-abc-def");
    expect(filled).toContain(`${SWARM_TOKEN_ENV}=SWMTKN-1-abc-def`);
    expect(filled).not.toContain(SWARM_TOKEN_PLACEHOLDER);
    expect(() => fillSwarmToken(cmd, "x; rm -rf /")).toThrow(/not a swarm join token/);
  });
});

describe("rendered commands", () => {
  // A stand-in script that prints its arguments and environment, one per line.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansions, not a template
  const echoScript = 'printf "%s\\n" "$@"; echo "cli=${DNLAB_DOCKER:-}"; echo "token=${SWARM_JOIN_TOKEN:-}"';

  function runRemote(call: ScriptCall): string[] {
    // What the remote login shell does with the command string (without sudo: we are not on a real host).
    return execFileSync("sh", ["-c", remoteShell(call, echoScript, { sudo: false })], { encoding: "utf8" })
      .trimEnd()
      .split("\n");
  }

  it("the script arrives intact and every argument (JSON included) survives the shell", () => {
    const apply = hostDaemonCalls(kvPlan, kvPlan.hosts[1]!, { dockerCli: "/usr/bin/docker" }).apply;
    const out = runRemote(apply);
    expect(out.slice(0, -2)).toEqual(apply.args);
    expect(out.at(-2)).toBe("cli=/usr/bin/docker");
  });

  it("the filled token reaches join.sh's environment", () => {
    const join = swarmCalls(swarmPlan).join[0]!;
    const cmd = fillSwarmToken(remoteShell(join, echoScript, { sudo: false }), "SWMTKN-1-aaa-bbb");
    const out = execFileSync("sh", ["-c", cmd], { encoding: "utf8" }).trimEnd().split("\n");
    expect(out.at(-1)).toBe("token=SWMTKN-1-aaa-bbb");
  });

  it("sudo -n for users other than root, none for root", () => {
    const [h1, h2] = swarmPlan.hosts;
    expect(needsSudo(h1!)).toBe(false);
    expect(needsSudo(h2!)).toBe(true);
    const call = daemonCalls(swarmPlan)[1]!.restore;
    expect(remoteShell(call, "true", { sudo: true }).startsWith("sudo -n bash -s -- restore ")).toBe(true);
    expect(remoteShell(call, "true", { sudo: false }).startsWith("bash -s -- restore ")).toBe(true);
  });

  it("refuses a script that contains the here-document's end line", () => {
    const call = daemonCalls(swarmPlan)[0]!.status;
    expect(() => remoteShell(call, `echo a\n${SCRIPT_HEREDOC_END}\necho b\n`, { sudo: false })).toThrow(/here-document/);
  });

  it("names scripts that exist, and they fit in a here-document", () => {
    for (const script of Object.values(REMOTE_SCRIPTS)) {
      expect(existsSync(script)).toBe(true);
      const text = readFileSync(script, "utf8");
      if (script === REMOTE_SCRIPTS.fault) {
        // POSIX sh: it also runs inside dind hosts, which have no bash; pipefail where the shell has it.
        expect(text.startsWith("#!/bin/sh\n")).toBe(true);
        expect(text).toContain("set -eu\n");
        expect(text).toContain("if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi");
      } else {
        expect(text.startsWith("#!/usr/bin/env bash\n")).toBe(true);
        expect(text).toContain("set -euo pipefail");
      }
      expect(text.split("\n")).not.toContain(SCRIPT_HEREDOC_END);
    }
  });
});
