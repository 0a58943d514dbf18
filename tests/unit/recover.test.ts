// Recovery from Docker 20.10's thread-namespace defect: how each host kind's daemon restarts, which
// daemons a verification says are stuck, and where the stack runs the recovery (its verification step).
import { describe, expect, it } from "vitest";
import { parseCli } from "../../src/cli/verify.js";
import { daemonRestartCommand, stuckDaemons } from "../../src/lab/recover.js";
import { buildPlan, netnsCommands, netnsRestartArgv } from "../../src/model/index.js";
import { labSteps, verifyStep } from "../../src/stack/steps.js";
import type { CheckResult } from "../../src/verify/index.js";

const netns = buildPlan({ hostKind: "netns", name: "rc", kv: { kind: "etcd" } });

function result(id: string, kind: CheckResult["kind"], host: string, ok: boolean, error = false): CheckResult {
  return {
    id,
    kind,
    from: host,
    host,
    target: "dockerd",
    expect: "pass",
    outcome: ok ? "pass" : "fail",
    ok,
    expected: false,
    error,
    reason: "",
    detail: `${id} detail`,
    durationMs: 1,
  };
}

describe("which daemons are stuck", () => {
  it("a failed daemon-netns check (not one that could not run, not other kinds)", () => {
    const stuck = stuckDaemons([
      result("daemon-netns:host1", "daemon-netns", "host1", false),
      result("daemon-netns:host2", "daemon-netns", "host2", false, true),
      result("cnm:test2", "cnm", "host2", false),
      result("daemon-netns:host3", "daemon-netns", "host3", true),
    ]);
    expect([...stuck]).toEqual([["host1", "daemon-netns:host1 detail"]]);
  });
});

describe("how a stuck daemon restarts", () => {
  it("netns: the host's own bring-up (host-up.sh) with --restart REASON before the dockerd flags", () => {
    const env = { DNLAB_DOCKERD: "/opt/d/dockerd" };
    const cmd = daemonRestartCommand(netns, "host2", "stuck thread", { env });
    const up = netnsCommands(netns, { dockerdBinary: "/opt/d/dockerd" }).hosts[1]!.create;
    const dash = up.indexOf("--");
    expect(cmd.argv).toEqual([...up.slice(0, dash), "--restart", "stuck thread", ...up.slice(dash)]);
    expect(cmd.argv.slice(0, 2)).toEqual(["bash", "scripts/netns/host-up.sh"]);
    expect(cmd.argv).toContain("/opt/d/dockerd");
    expect(() => netnsRestartArgv(netnsCommands(netns).images[0]!, "x")).toThrow(/not a host/);
  });

  it("dind: docker restart of the host's container on the engine the lab runs on", () => {
    const dind = buildPlan({});
    expect(daemonRestartCommand(dind, "host1", "x", { dindEngine: "unix:///run/dnlab-outer/docker.sock" }).argv).toEqual([
      "/usr/bin/docker",
      "-H",
      "unix:///run/dnlab-outer/docker.sock",
      "restart",
      "--time",
      "30",
      "lab-host1",
    ]);
    expect(() => daemonRestartCommand(dind, "host1", "x")).toThrow(/engine its container runs on is not known/);
  });

  it("ssh: docker-daemon.sh restart on the host over ssh, the script in the command, with the host's paths and KV", () => {
    const ssh = buildPlan({
      hostKind: "ssh",
      hosts: [
        { name: "host1", address: "198.18.0.11", ssh: { user: "lab", port: 2222, privateKeySecret: "k", identityFile: "/k/id" } },
        { name: "host2", address: "198.18.0.12", ssh: { user: "root", privateKeySecret: "k" } },
      ],
    });
    const a = daemonRestartCommand(ssh, "host1", "x").argv;
    expect(a.slice(0, -1)).toEqual(["ssh", "-p", "2222", "-i", "/k/id", "-o", "BatchMode=yes", "--", "lab@198.18.0.11"]);
    const remote = a.at(-1)!;
    expect(remote).toMatch(/^sudo -n bash -s -- restart --mode kv --state-dir \/var\/lib\/dnlab-remote\/lab /);
    expect(remote).toContain("--kv-url consul://198.18.0.11:8500 --kv-node 198.18.0.11:2376");
    expect(remote).toContain("cmd_restart() {");
    expect(daemonRestartCommand(ssh, "host2", "x", { sshIdentityFile: "/other" }).argv.slice(0, 8)).toEqual([
      "ssh",
      "-p",
      "22",
      "-i",
      "/other",
      "-o",
      "BatchMode=yes",
      "--",
    ]);
    expect(daemonRestartCommand(ssh, "host2", "x").argv.at(-1)).toMatch(/^bash -s -- restart /);
  });
});

describe("where the stack recovers", () => {
  it("its verification step, in kv mode: --recover, and on a dind lab the engine its containers run on", () => {
    expect(verifyStep(netns).create).toMatch(/ --recover$/);
    expect(verifyStep(buildPlan({}), { dindEngine: "unix:///x.sock" }).create).toMatch(
      / --dind-engine unix:\/\/\/x\.sock( .*)? --recover$/,
    );
    expect(verifyStep(buildPlan({ hostKind: "netns", overlayMode: "swarm" })).create).not.toContain("--recover");
    const steps = labSteps(buildPlan({}), {}, { dindEngine: "tcp://127.0.0.1:2375" });
    expect(steps.verify!.create).toMatch(/ --dind-engine tcp:\/\/127\.0\.0\.1:2375 .*--recover$/);
    // The same command on every up: no diff on an unchanged lab.
    expect(labSteps(buildPlan({}), {}, { dindEngine: "tcp://127.0.0.1:2375" }).verify).toEqual(steps.verify);
  });

  it("verify --recover takes the dind engine from --dind-engine, else DOCKER_HOST; --dind-engine alone is a usage error", () => {
    const io = { readStdin: () => JSON.stringify(buildPlan({})) };
    const a = parseCli(["--plan", "-", "--recover", "--dind-engine", "unix:///e.sock"], io);
    expect(a !== "help" && { recover: a.recover, dindEngine: a.dindEngine }).toEqual({ recover: true, dindEngine: "unix:///e.sock" });
    const saved = process.env["DOCKER_HOST"];
    process.env["DOCKER_HOST"] = "unix:///from-env.sock";
    try {
      const b = parseCli(["--plan", "-", "--recover"], io);
      expect(b !== "help" && { recover: b.recover, dindEngine: b.dindEngine }).toEqual({
        recover: true,
        dindEngine: "unix:///from-env.sock",
      });
    } finally {
      if (saved === undefined) delete process.env["DOCKER_HOST"];
      else process.env["DOCKER_HOST"] = saved;
    }
    const c = parseCli(["--plan", "-"], io);
    expect(c !== "help" && c.recover).toBe(false);
    expect(() => parseCli(["--plan", "-", "--dind-engine", "unix:///e.sock"], io)).toThrow(
      /--dind-engine only goes with --recover or --converge-faults/,
    );
  });
});
