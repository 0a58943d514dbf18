// lab:faults and lab:expect in the model: every bad input refused with its key, value and fix; the
// checks each fault changes (and why, naming it); the probes it adds; the user's expectations as checks;
// the command lines that apply and remove a fault on each host kind.
import { describe, expect, it } from "vitest";
import {
  buildPlan,
  type CheckPlan,
  expandChecks,
  faultCalls,
  faultPruneCall,
  type LabConfigInput,
  localFaultShell,
  remoteFaultShell,
} from "../../src/model/index.js";
import { configProblems } from "./config-problems.js";

function expectProblem(config: LabConfigInput, key: string, ...fragments: string[]): void {
  const lines = configProblems(config).filter((l) => l.startsWith(`- ${key} = `));
  expect(lines, `no problem for ${key} in:\n${configProblems(config).join("\n")}`).toHaveLength(1);
  for (const f of fragments) expect(lines[0]).toContain(f);
  expect(lines[0]).toContain("Fix: ");
}

const netns = (extra: LabConfigInput = {}): LabConfigInput => ({ hostKind: "netns", ...extra });
const byId = (plan: ReturnType<typeof buildPlan>): Map<string, CheckPlan> => new Map(expandChecks(plan.checks).map((c) => [c.id, c]));

describe("lab:faults validation", () => {
  it("the issue's example is accepted, with names and ids", () => {
    const plan = buildPlan(
      netns({
        faults: [
          { host: "host2", kind: "loss", loss: "30%" },
          { host: "host1", kind: "drop-vxlan" },
          { name: "small-underlay", host: "host2", kind: "mtu", mtu: 1400 },
        ],
      }),
    );
    expect(plan.faults.map((f) => [f.name, f.host, f.kind, f.lossPct ?? f.mtu ?? null])).toEqual([
      ["loss-host2", "host2", "loss", 30],
      ["drop-vxlan-host1", "host1", "drop-vxlan", null],
      ["small-underlay", "host2", "mtu", 1400],
    ]);
    expect(new Set(plan.faults.map((f) => f.id)).size).toBe(3);
    expect(plan.faults[0]!.id).toMatch(/^[0-9a-f]{8}$/);
  });

  it("an unknown kind, an unknown host, a missing one", () => {
    expectProblem(
      netns({ faults: [{ host: "host2", kind: "flood" }] }),
      "lab:faults[0].kind",
      '"flood"',
      "unknown fault kind",
      "loss, delay, down",
    );
    expectProblem(netns({ faults: [{ host: "host9", kind: "down" }] }), "lab:faults[0].host", '"host9"', "no such host", "host1, host2");
    expectProblem(netns({ faults: [{ kind: "down" }] }), "lab:faults[0].host", "needs the host");
  });

  it("a bad duration or percentage, and settings of another kind", () => {
    expectProblem(
      netns({ faults: [{ host: "host2", kind: "delay", delay: "fast" }] }),
      "lab:faults[0].delay",
      '"fast"',
      "not a duration",
      "50ms",
    );
    expectProblem(netns({ faults: [{ host: "host2", kind: "delay", delay: "5s" }] }), "lab:faults[0].delay", "at most 1000ms");
    expectProblem(netns({ faults: [{ host: "host2", kind: "loss", loss: "150%" }] }), "lab:faults[0].loss", '"150%"', "at most 100%");
    expectProblem(netns({ faults: [{ host: "host2", kind: "loss", loss: "lots" }] }), "lab:faults[0].loss", "not a percentage");
    expectProblem(netns({ faults: [{ host: "host2", kind: "loss" }] }), "lab:faults[0].loss", "needs its share");
    expectProblem(netns({ faults: [{ host: "host2", kind: "mtu", mtu: 1500 }] }), "lab:faults[0].mtu", "576 to 1499");
    expectProblem(
      netns({ faults: [{ host: "host2", kind: "down", mtu: 1400 }] }),
      "lab:faults[0].mtu",
      "a down fault has no mtu",
      "kind: mtu",
    );
    expectProblem(
      netns({ faults: [{ host: "host2", kind: "delay", delay: "10ms", jitter: "20ms" }] }),
      "lab:faults[0].jitter",
      "larger than the delay",
    );
    expectProblem(
      netns({ faults: [{ host: "host2", kind: "loss", loss: 30, when: "now" } as never] }),
      "lab:faults[0].when",
      "unknown key",
    );
  });

  it("what a host kind cannot apply, or could not undo", () => {
    expectProblem({ faults: [{ host: "host1", kind: "down" }] }, "lab:faults[0].kind", "dind host", "Docker API is published");
    expectProblem({ faults: [{ host: "host1", kind: "stop-daemon" }] }, "lab:faults[0].kind", "main process");
    const ssh = {
      hostKind: "ssh",
      hosts: [
        { name: "host1", address: "198.18.0.11", ssh: { user: "root", privateKeySecret: "k" } },
        { name: "host2", address: "198.18.0.12", ssh: { user: "root", privateKeySecret: "k" } },
      ],
    };
    expectProblem({ ...ssh, faults: [{ host: "host2", kind: "down" }] }, "lab:faults[0].kind", "could never be removed");
    expectProblem({ ...ssh, faults: [{ host: "host1", kind: "stop-daemon" }] }, "lab:faults[0].kind", "runs the KV store");
    expect(() =>
      buildPlan({
        ...ssh,
        faults: [
          { host: "host2", kind: "stop-daemon" },
          { host: "host1", kind: "mtu", mtu: 8000 },
        ],
      }),
    ).not.toThrow();
  });

  it("faults on one host that would undo each other, and duplicate names", () => {
    expectProblem(
      netns({
        faults: [
          { host: "host2", kind: "down" },
          { host: "host2", kind: "drop-vxlan" },
        ],
      }),
      "lab:faults[1].kind",
      "keep a down fault alone",
    );
    expectProblem(
      netns({
        faults: [
          { host: "host2", kind: "loss", loss: 10 },
          { host: "host2", kind: "delay", delay: "5ms" },
        ],
      }),
      "lab:faults[1].kind",
      "one root qdisc",
    );
    expectProblem(
      netns({
        faults: [
          { host: "host2", kind: "mtu", mtu: 1400 },
          { name: "x", host: "host2", kind: "mtu", mtu: 1300 },
        ],
      }),
      "lab:faults[1].kind",
      "already has a mtu fault",
    );
    expectProblem(
      netns({
        faults: [
          { name: "a", host: "host1", kind: "drop-vxlan" },
          { name: "a", host: "host2", kind: "drop-vxlan" },
        ],
      }),
      "lab:faults[1].name",
      "duplicate fault name",
    );
  });
});

describe("lab:expect validation", () => {
  it("the issue's examples are accepted", () => {
    const plan = buildPlan(
      netns({
        expect: [
          { name: "test2 reaches test1 by name", from: "test2", to: "test1", network: "ov_net1", probe: "ping", expect: "pass" },
          { from: "test3", to: "host1", probe: "ping", expect: "fail" },
          { from: "test2", to: "test1", probe: "mtu", size: 1422, expect: "pass" },
          { from: "test1", to: "test2", probe: "ping", lossPct: { min: 10 } },
          { from: "test1", to: "test2", probe: "ping", rttMs: { max: 5 } },
          { from: "test1", to: "external", probe: "ping", expect: "pass" },
          { from: "test2", to: "test1", probe: "dns", expect: "pass" },
        ],
      }),
    );
    const checks = plan.checks.expectations;
    expect(checks.map((c) => [c.id, c.kind, c.target, c.expect])).toEqual([
      ["expect:test2 reaches test1 by name", "ping", "test1", "pass"],
      ["expect:test3->host1 ping", "ping", "198.18.0.11", "fail"],
      ["expect:test2->test1 mtu 1422", "mtu", "198.18.100.2", "pass"],
      ["expect:test1->test2 ping lossPct", "ping", "test2", "pass"],
      ["expect:test1->test2 ping rttMs", "ping", "test2", "pass"],
      ["expect:test1->external ping", "external", plan.verification.externalTarget, "pass"],
      ["expect:test2->test1 dns", "dns", "test1", "pass"],
    ]);
  });

  it("is refused: a missing workload, a network not shared, a host for dns, an address outside the lab", () => {
    expectProblem(
      netns({ expect: [{ from: "test9", to: "test1" }] }),
      "lab:expect[0].from",
      '"test9"',
      "no such workload",
      "test1, test2, test3",
    );
    expectProblem(netns({ expect: [{ from: "test1", to: "nowhere" }] }), "lab:expect[0].to", "no such workload or host", "external");
    expectProblem(netns({ expect: [{ from: "test1", to: "test3", network: "ov_net1" }] }), "lab:expect[0].network", "must be shared");
    expectProblem(netns({ expect: [{ from: "test1", to: "test2", network: "nope" }] }), "lab:expect[0].network", "no such network");
    expectProblem(netns({ expect: [{ from: "test1", to: "host2", probe: "dns" }] }), "lab:expect[0].to", "container names only");
    expectProblem(netns({ expect: [{ from: "test1", to: "10.0.0.1" }] }), "lab:expect[0].to", "outside the lab range");
    expectProblem(netns({ expect: [{ from: "test1", to: "test2", probe: "ping", size: 100 }] }), "lab:expect[0].size", "probe: mtu");
    expectProblem(
      netns({ expect: [{ from: "test1", to: "test2", lossPct: { min: 50, max: 10 } }] }),
      "lab:expect[0].lossPct.min",
      "larger than max",
    );
    expectProblem(
      netns({ expect: [{ from: "test1", to: "test2", expect: "fail", rttMs: { max: 5 } }] }),
      "lab:expect[0].expect",
      "the expectation itself",
    );
    expectProblem(netns({ expect: [{ from: "test1", to: "test2", probe: "trace" }] }), "lab:expect[0].probe", "unknown probe");
    expectProblem(
      netns({
        expect: [
          { name: "a", from: "test1", to: "test2" },
          { name: "a", from: "test2", to: "test1" },
        ],
      }),
      "lab:expect[1].name",
      "same name",
    );
    // Unnamed ones are told apart by their position.
    const twice = buildPlan(
      netns({
        expect: [
          { from: "test1", to: "test2" },
          { from: "test1", to: "test2" },
        ],
      }),
    );
    expect(twice.expectations.map((e) => e.name)).toEqual(["test1->test2 ping", "test1->test2 ping #1"]);
  });

  it("lab:verification.failUpOn: unexpected or never (the default)", () => {
    expect(buildPlan({}).verification.failUpOn).toBe("never");
    expect(buildPlan({ verification: { failUpOn: "unexpected" } }).verification.failUpOn).toBe("unexpected");
    expectProblem({ verification: { failUpOn: "always" } }, "lab:verification.failUpOn", "unexpected, never");
  });
});

describe("what each fault does to the plan's checks", () => {
  it("drop-vxlan on host1: the overlay's pings through it fail, its DNS and macvlan do not; the VXLAN checks fail, naming the fault", () => {
    const c = byId(buildPlan(netns({ faults: [{ host: "host1", kind: "drop-vxlan" }] })));
    for (const id of ["ping-name:test1->test2@ov_net1", "ping-ip:test2->test1@ov_net1", "vxlan:host1@ov_net1", "vxlan:host2@ov_net1"]) {
      expect(c.get(id), id).toMatchObject({ expect: "fail", faults: ["lab:faults[0] drop-vxlan"] });
      expect(c.get(id)!.reason).toContain("host1 drops VXLAN (UDP 4789) in and out (lab:faults[0] drop-vxlan)");
    }
    for (const id of ["dns:test2->test1@ov_net1", "external:test1->198.18.0.2", "host-ping:host2->test3@mv_net1", "cnm:test1"]) {
      expect(c.get(id), id).toMatchObject({ expect: "pass" });
      expect(c.get(id)!.faults, id).toBeUndefined();
    }
  });

  it("stop-daemon on host2: its checks cannot run, probes toward it fail, a host's own stack still answers", () => {
    const c = byId(buildPlan(netns({ faults: [{ host: "host2", kind: "stop-daemon" }] })));
    for (const id of [
      "ping-name:test2->test1@ov_net1",
      "cnm:test2",
      "vxlan:host2@ov_net1",
      "host-ping:host2->test3@mv_net1",
      "gwbridge-route:test2@ov_net1",
      // Its helper container needs the daemon it looks at.
      "daemon-netns:host2",
    ]) {
      expect(c.get(id), id).toMatchObject({ expect: "no-run" });
      expect(c.get(id)!.reason).toContain("cannot run: host2's dockerd is stopped (lab:faults[0] stop-daemon)");
    }
    expect(c.get("dns:test1->test2@ov_net1")).toMatchObject({ expect: "fail" });
    expect(c.get("ping-ip:test3->host2@mv_net1")).toMatchObject({ expect: "pass" });
    expect(c.get("daemon-netns:host1")).toMatchObject({ expect: "pass" });
  });

  it("down on host2: everything over its link fails; its kv overlay cannot be looked up (no-run)", () => {
    const c = byId(buildPlan(netns({ faults: [{ host: "host2", kind: "down" }] })));
    expect(c.get("external:test2->198.18.0.2")).toMatchObject({ expect: "fail" });
    expect(c.get("ping-ip:test3->host2@mv_net1")).toMatchObject({ expect: "fail" });
    expect(c.get("vxlan:host2@ov_net1")).toMatchObject({ expect: "no-run" });
    expect(c.get("vxlan:host1@ov_net1")).toMatchObject({ expect: "fail" });
    expect(c.get("dns:test1->test2@ov_net1")).toMatchObject({ expect: "pass" });
    expect(c.get("host-ping:host1->test3@mv_net1")).toMatchObject({ expect: "fail", reason: expect.stringContaining("own macvlan") });
  });

  it("mtu 1400 on host2: DF probes of the overlay's full size fail, ones that fit pass, small probes are untouched", () => {
    const plan = buildPlan(netns({ faults: [{ name: "small-underlay", host: "host2", kind: "mtu", mtu: 1400 }] }));
    const c = byId(plan);
    expect(c.get("mtu:test1->test2@ov_net1")).toMatchObject({ kind: "mtu", size: 1422, expect: "fail", target: "198.18.100.3" });
    expect(c.get("mtu:test2->test1@ov_net1")).toMatchObject({ size: 1422, expect: "fail" });
    expect(c.get("mtu-fit:test1->test2@ov_net1")).toMatchObject({ size: 1322, expect: "pass" });
    expect(c.get("mtu:test1->test2@ov_net1")!.reason).toContain("eth0 of host2 has MTU 1400; the overlay sends 1450 (1500 with VXLAN)");
    expect(c.get("ping-name:test1->test2@ov_net1")).toMatchObject({ expect: "pass" });
    // An overlay small enough for the underlay: nothing fails, so no full-size probe is planned.
    const fits = byId(
      buildPlan(
        netns({
          networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24", mtu: 1350 }],
          workloads: [
            { name: "a", host: "host1", networks: ["ov_net1"] },
            { name: "b", host: "host2", networks: ["ov_net1"] },
          ],
          faults: [{ host: "host2", kind: "mtu", mtu: 1400 }],
        }),
      ),
    );
    expect([...fits.keys()].filter((k) => k.startsWith("mtu"))).toEqual([]);
  });

  it("loss 40% on host2: checks through it get enough tries; 20 pings measure it on the faulted paths only", () => {
    const plan = buildPlan(
      netns({
        hosts: [
          { name: "host1", address: "198.18.0.11" },
          { name: "host2", address: "198.18.0.12" },
          { name: "host3", address: "198.18.0.13" },
        ],
        workloads: [
          { name: "test1", host: "host1", networks: ["ov_net1"] },
          { name: "test2", host: "host2", networks: ["ov_net1"] },
          { name: "test4", host: "host3", networks: ["ov_net1"] },
        ],
        faults: [{ host: "host2", kind: "loss", loss: "40%" }],
      }),
    );
    const c = byId(plan);
    expect(c.get("ping-name:test1->test2@ov_net1")).toMatchObject({ expect: "pass", attempts: 21 });
    expect(c.get("ping-name:test1->test4@ov_net1")!.attempts).toBeUndefined();
    expect(c.get("dns:test1->test2@ov_net1")!.attempts).toBeUndefined();
    const loss = [...c.values()].filter((x) => x.id.startsWith("loss:")).map((x) => x.id);
    expect(loss.sort()).toEqual([
      "loss:test1->test2@ov_net1",
      "loss:test2->test1@ov_net1",
      "loss:test2->test4@ov_net1",
      "loss:test4->test2@ov_net1",
    ]);
    expect(c.get("loss:test1->test2@ov_net1")).toMatchObject({ kind: "ping", measure: { count: 20, lossPct: { min: 5 } }, expect: "pass" });
    // 5% cannot be told from none by 20 pings: measured and reported, not judged.
    const small = byId(buildPlan(netns({ faults: [{ host: "host2", kind: "loss", loss: "5%" }] })));
    expect(small.get("loss:test1->test2@ov_net1")!.measure).toEqual({ count: 20 });
  });

  it("delay 50ms ± 5ms on host2: the RTT through it is measured and must be at least 45 ms", () => {
    const c = byId(buildPlan(netns({ faults: [{ host: "host2", kind: "delay", delay: "50ms", jitter: "5ms" }] })));
    expect(c.get("rtt:test1->test2@ov_net1")).toMatchObject({ measure: { count: 5, rttMs: { min: 45 } }, expect: "pass" });
  });

  it("a lab without faults plans exactly what it did before (no expect/faults fields on its pair probes)", () => {
    const plan = buildPlan(netns());
    for (const g of plan.checks.pairs) for (const p of g.probes) expect(Object.keys(p).sort()).toEqual(["probe", "reason"]);
    expect(expandChecks(plan.checks).every((x) => x.expect !== "no-run" && x.faults === undefined)).toBe(true);
  });
});

describe("fault command lines per host kind", () => {
  it("netns: on this machine, entering the host's namespace; stop-daemon is started again by the host's own bring-up", () => {
    const plan = buildPlan(
      netns({
        faults: [
          { host: "host2", kind: "loss", loss: 30 },
          { host: "host1", kind: "stop-daemon" },
        ],
      }),
    );
    const loss = faultCalls(plan, plan.faults[0]!);
    expect(localFaultShell(loss.apply)).toBe(
      `sh scripts/faults/fault.sh apply --id ${plan.faults[0]!.id} --name loss-host2 --kind loss --iface eth0 --netns lab-host2 --loss 30 --spare-tcp-port 2379 --state-dir /run/dnlab/lab/faults-host2`,
    );
    expect(localFaultShell(loss.remove)).toBe(
      `sh scripts/faults/fault.sh remove --id ${plan.faults[0]!.id} --state-dir /run/dnlab/lab/faults-host2`,
    );
    const stop = faultCalls(plan, plan.faults[1]!, { dockerdBinary: "/opt/dockerd" }).apply.args;
    expect(stop).toContain("--pidfile");
    expect(stop[stop.indexOf("--restart") + 1]).toMatch(/^bash scripts\/netns\/host-up\.sh --name host1 .* --dockerd \/opt\/dockerd -- /);
    expect(faultPruneCall(plan, "host2").args).toEqual([
      "prune",
      "--keep",
      plan.faults[0]!.id,
      "--state-dir",
      "/run/dnlab/lab/faults-host2",
    ]);
  });

  it("mtu in kv mode: the daemon's connections to the KV store are reset once the MTU is set; swarm mode has none to reset", () => {
    const kv = buildPlan({ faults: [{ host: "host2", kind: "mtu", mtu: 1400 }] });
    const args = faultCalls(kv, kv.faults[0]!).apply.args;
    expect(args.slice(args.indexOf("--mtu"))).toEqual(["--mtu", "1400", "--reset-tcp-port", "8500", "--state-dir", "/run/dnlab-faults"]);
    const swarm = buildPlan(netns({ overlayMode: "swarm", faults: [{ host: "host2", kind: "mtu", mtu: 1400 }] }));
    expect(faultCalls(swarm, swarm.faults[0]!).apply.args).not.toContain("--reset-tcp-port");
  });

  it("dind: the script on stdin of `docker exec -i` into the host's container, the API port spared", () => {
    const plan = buildPlan({ faults: [{ host: "host2", kind: "loss", loss: 30 }] });
    const call = faultCalls(plan, plan.faults[0]!, { dindEngine: "unix:///run/outer.sock" }).apply;
    expect(localFaultShell(call)).toMatch(
      /^\/usr\/bin\/docker -H unix:\/\/\/run\/outer\.sock exec -i lab-host2 sh -s -- apply .* --spare-tcp-port 2376 --spare-tcp-port 8500 --state-dir \/run\/dnlab-faults < scripts\/faults\/fault\.sh$/,
    );
  });

  it("ssh: fed over ssh on stdin as root, ssh's port spared, records beside the daemon's", () => {
    const plan = buildPlan({
      hostKind: "ssh",
      overlayMode: "swarm",
      hosts: [
        { name: "host1", address: "198.18.0.11", ssh: { user: "root", privateKeySecret: "k" } },
        { name: "host2", address: "198.18.0.12", ssh: { user: "lab", port: 2222, privateKeySecret: "k" } },
      ],
      faults: [{ host: "host2", kind: "loss", loss: 30 }],
    });
    const call = faultCalls(plan, plan.faults[0]!).apply;
    expect(call.where).toBe("remote");
    const shell = remoteFaultShell(call, "#!/bin/sh\necho hi\n", true);
    expect(shell).toMatch(
      /^sudo -n sh -s -- apply .* --spare-tcp-port 2222 --state-dir \/var\/lib\/dnlab-remote\/lab\/faults <<'__DNLAB_SCRIPT_END__'\n#!\/bin\/sh\necho hi\n__DNLAB_SCRIPT_END__\n$/,
    );
  });
});
