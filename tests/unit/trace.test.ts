// The trace without a lab: which hops a probe crosses (from the plan), what the captures mean (real
// tcpdump text from tests/unit/fixtures/trace), where a broken path stopped and why, what dind and ssh
// hosts cannot show, and the three renderings (text, Mermaid, SVG) of one result.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseTraceCli } from "../../src/cli/trace.js";
import { UsageError } from "../../src/cli/cli.js";
import { buildPlan, type LabConfigInput } from "../../src/model/index.js";
import { analyzeTrace, type HopCapture, type TraceFacts } from "../../src/trace/analyze.js";
import { captureFilter, planTrace, TraceInputError, unseeableHops } from "../../src/trace/plan.js";
import { formatTrace, traceMermaid } from "../../src/trace/render.js";
import { traceSvg } from "../../src/trace/svg.js";
import type { ProbeOutcome, TracePlan } from "../../src/trace/types.js";
import { elements, groups, svgDoc, texts } from "./svg-xml.js";

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/trace/${name}`, import.meta.url), "utf8");

const workloads: LabConfigInput["workloads"] = [
  { name: "test1", host: "host1", networks: ["ov_net1"] },
  { name: "test2", host: "host2", networks: ["ov_net1"] },
  { name: "test3", host: "host1", networks: ["mv_net1"] },
  { name: "test4", host: "host2", networks: ["mv_net1"] },
  { name: "test5", host: "host2", networks: ["ov_net1"] },
];
const netns = buildPlan({ name: "tr1", hostKind: "netns", kv: { kind: "etcd" }, workloads });
const dind = buildPlan({ workloads });
const ssh = buildPlan({
  hostKind: "ssh",
  hosts: [
    { name: "host1", address: "198.18.0.11", ssh: { user: "lab", privateKeySecret: "sshKey" } },
    { name: "host2", address: "198.18.0.12", ssh: { user: "lab", privateKeySecret: "sshKey" } },
  ],
  workloads,
});

// The fixtures were captured with a 1234-byte payload (overlay), 1111 (external) and 999 (macvlan).
const overlayPlan = (): TracePlan => planTrace(netns, { from: "test2", to: "test1", payloadBytes: 1234, count: 2 });
const LISTENING = fixture("overlay-vxlan0.stderr");
const running: TraceFacts = {
  from: { name: "test2", state: "running", running: true, attached: true },
  to: { name: "test1", state: "running", running: true, attached: true },
};
const answered: ProbeOutcome = { command: ["ping"], exitCode: 0, transmitted: 2, received: 2, output: "" };
const lost: ProbeOutcome = { command: ["ping"], exitCode: 1, transmitted: 2, received: 0, output: "" };

/** tcpdump text keeping only the frames whose indented line matches (e.g. only the echo requests). */
function only(text: string, keep: RegExp): string {
  const lines = text.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^\d{2}:\d{2}/.test(l)) {
      const rec = [l];
      while (i + 1 < lines.length && !/^\d{2}:\d{2}/.test(lines[i + 1]!)) rec.push(lines[++i]!);
      if (rec.some((r) => keep.test(r))) out.push(...rec);
    }
  }
  return out.join("\n");
}

/** Captures of the overlay path as the real lab gave them, one per hop, by role. */
function overlayCaptures(p: TracePlan, edit: (id: string, c: HopCapture) => HopCapture = (_i, c) => c): HopCapture[] {
  return p.hops.map((h) => {
    const text =
      h.filter === "vxlan"
        ? fixture("overlay-underlay-eth0.stdout")
        : h.role === "container"
          ? fixture("overlay-container-eth0.stdout")
          : fixture("overlay-vxlan0.stdout");
    const c: HopCapture = {
      id: h.id,
      namespace: `ns-of-${h.id}`,
      device: h.device,
      stdout: text,
      stderr: LISTENING,
      ...(h.role === "vxlan" ? { deviceVni: 256 } : {}),
    };
    return edit(h.id, c);
  });
}

describe("planTrace: the hops, from the plan", () => {
  it("overlay across hosts: container, overlay br0 and VXLAN, underlay, switch ports, and back down on the other host", () => {
    const p = overlayPlan();
    expect(p).toMatchObject({
      kind: "overlay",
      network: "ov_net1",
      from: { name: "test2", host: "host2", ip: "198.18.100.3" },
      to: { name: "test1", host: "host1", ip: "198.18.100.2" },
    });
    expect(p.hops.map((h) => [h.id, h.role, h.ns.kind, h.filter])).toEqual([
      ["test2/eth0", "container", "container", "probe"],
      ["host2/overlay/br0", "overlay-bridge", "overlay", "probe"],
      ["host2/overlay/vxlan", "vxlan", "overlay", "probe"],
      ["host2/eth0", "underlay", "host", "vxlan"],
      ["switch/v-host2", "switch-port", "switch", "vxlan"],
      ["switch/v-host1", "switch-port", "switch", "vxlan"],
      ["host1/eth0", "underlay", "host", "vxlan"],
      ["host1/overlay/vxlan", "vxlan", "overlay", "probe"],
      ["host1/overlay/br0", "overlay-bridge", "overlay", "probe"],
      ["test1/eth0", "container", "container", "probe"],
    ]);
    expect(p.hops.every((h) => h.access.ok)).toBe(true);
    expect(unseeableHops(p)).toEqual([]);
  });

  it("overlay on one host: the bridge only, no VXLAN and no underlay", () => {
    const p = planTrace(netns, { from: "test2", to: "test5" });
    expect(p.hops.map((h) => h.id)).toEqual(["test2/eth0", "host2/overlay/br0", "test5/eth0"]);
  });

  it("macvlan: the child, the parent, the switch, the other parent, the other child", () => {
    const p = planTrace(netns, { from: "test3", to: "test4" });
    expect(p.kind).toBe("macvlan");
    expect(p.to.ip).toBe("198.18.0.192");
    expect(p.hops.map((h) => [h.id, h.role, h.device])).toEqual([
      ["test3/eth0", "container", "eth0"],
      ["host1/eth0", "macvlan-parent", "eth0"],
      ["switch/v-host1", "switch-port", "v-host1"],
      ["switch/v-host2", "switch-port", "v-host2"],
      ["host2/eth0", "macvlan-parent", "eth0"],
      ["test4/eth0", "container", "eth0"],
    ]);
  });

  it("external: eth1, docker_gwbridge, the NAT (derived), the underlay, and the KV host's switch port as the target", () => {
    const p = planTrace(netns, { from: "test2", to: "external" });
    expect(p).toMatchObject({ kind: "external", network: "ov_net1", to: { name: "198.18.0.2", ip: "198.18.0.2" } });
    expect(p.hops.map((h) => [h.id, h.role, h.derived ?? false])).toEqual([
      ["test2/eth1", "container", false],
      ["host2/docker_gwbridge", "gwbridge", false],
      ["host2/nat", "nat", true],
      ["host2/eth0", "underlay", false],
      ["switch/v-host2", "switch-port", false],
      ["switch/kv", "target", false],
    ]);
  });

  it("the filters: the probe by its IP length, and the same probe inside VXLAN", () => {
    expect(captureFilter({ filter: "probe" }, 1234)).toBe("icmp and ip[2:2] = 1262");
    expect(captureFilter({ filter: "vxlan" }, 1234)).toBe("udp port 4789 and udp[32:2] = 1262");
  });

  it("bad input: one clear error naming the value and the fix", () => {
    const err = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(TraceInputError);
        return (e as Error).message;
      }
      throw new Error("no error");
    };
    expect(err(() => planTrace(netns, { from: "nope", to: "test1" }))).toBe(
      '<from> = "nope": no such container in lab tr1. Fix: use one of test1, test2, test3, test4, test5',
    );
    expect(err(() => planTrace(netns, { from: "test1", to: "nope" }))).toContain("or external");
    expect(err(() => planTrace(netns, { from: "test1", to: "test1" }))).toContain("the same container as <from>");
    expect(err(() => planTrace(netns, { from: "test1", to: "test3" }))).toContain("no network test1 and test3 share");
    expect(err(() => planTrace(netns, { from: "test3", to: "external" }))).toContain("only overlay containers have");
    expect(err(() => planTrace(netns, { from: "test1", to: "test2", network: "mv_net1" }))).toBe(
      '--network = "mv_net1": not a network test1 and test2 share. Fix: use one of ov_net1',
    );
    expect(err(() => planTrace(netns, { from: "test1", to: "test2", payloadBytes: 9000 }))).toContain("from 16 to 1400");
  });
});

describe("dind and ssh hosts: the hops that cannot be seen from here, and why", () => {
  it("dind: every hop on a host is the dind image's, the underlay a bridge of the local engine", () => {
    const p = planTrace(dind, { from: "test2", to: "test1" });
    const blind = unseeableHops(p);
    expect(blind.map((b) => b.id)).toEqual(p.hops.map((h) => h.id));
    expect(blind.find((b) => b.id === "test2/eth0")!.why).toBe(
      "host2 is a dind host: its namespaces live inside the host's container, whose image (docker:dind) has no tcpdump and the lab installs none",
    );
    expect(blind.find((b) => b.id === "switch/v-host2")!.why).toBe(
      "the underlay of dind hosts is a Docker bridge of the local engine, outside the lab's namespaces",
    );
  });

  it("ssh: capturing needs root and tcpdump on the machine; the underlay is a real network", () => {
    const p = planTrace(ssh, { from: "test3", to: "test4" });
    const blind = unseeableHops(p);
    expect(blind.find((b) => b.id === "host1/eth0")!.why).toBe(
      "host1 is an ssh host: capturing there needs root and tcpdump on that machine; trace captures only in namespaces on this machine",
    );
    expect(blind.find((b) => b.id === "switch/v-host1")!.why).toContain("a real network");
  });

  it("a probe that is answered with nothing captured: delivered, every hop listed as not visible with its reason, no cause", () => {
    const p = planTrace(dind, { from: "test2", to: "test1", payloadBytes: 1234 });
    const r = analyzeTrace(p, [], answered, running, "2026-11-29T00:00:00Z");
    expect(r.hops.every((h) => h.status === "not-captured" && h.why)).toBe(true);
    expect(r).toMatchObject({ delivered: true, answered: true });
    expect(r.cause).toBeUndefined();
    const text = formatTrace(r);
    expect(text).toContain("not captured: host2 is a dind host");
    expect(text).toContain(`not visible from here: ${p.hops.map((h) => h.id).join(", ")}`);
  });

  it("a probe that is lost with nothing captured: says the stop cannot be located, and why", () => {
    const p = planTrace(ssh, { from: "test3", to: "test4", payloadBytes: 999 });
    const r = analyzeTrace(
      p,
      [],
      lost,
      { from: { name: "test3", state: "running", running: true }, to: { name: "test4", state: "running", running: true } },
      "t",
    );
    expect(r.delivered).toBe(false);
    expect(r.cause).toMatch(/^seen at no hop; the hops after that could not be captured \(test3\/eth0: host1 is an ssh host/);
    expect(r.cause).toContain("so where it stopped is not known");
  });
});

describe("analyzeTrace: what the captures say", () => {
  it("every hop saw both directions: delivered, answered, the VNI on the wire equals the device's", () => {
    const p = overlayPlan();
    const r = analyzeTrace(p, overlayCaptures(p), answered, running, "t");
    expect(r.hops.map((h) => [h.status, h.requests, h.replies])).toEqual(p.hops.map(() => ["seen", 2, 2]));
    expect(r).toMatchObject({
      delivered: true,
      answered: true,
      lastSeen: "test1/eth0",
      lastReplySeen: "test2/eth0",
      vni: { wire: 256, device: 256, matches: true },
    });
    expect(r.cause).toBeUndefined();
    expect(r.hops[3]!.request!.vxlan).toMatchObject({ srcIp: "198.18.0.12", dstIp: "198.18.0.11", dstPort: 4789 });
    expect(r.facts).toEqual(["test2: running, on ov_net1", "test1: running, on ov_net1"]);
  });

  it("a VNI on the wire that is not the device's is reported as a mismatch", () => {
    const p = overlayPlan();
    const r = analyzeTrace(
      p,
      overlayCaptures(p, (_id, c) => (c.deviceVni !== undefined ? { ...c, deviceVni: 4097 } : c)),
      answered,
      running,
      "t",
    );
    expect(r.vni).toEqual({ wire: 256, device: 4097, matches: false });
    expect(formatTrace(r)).toContain("the VXLAN device says 4097: MISMATCH");
  });

  it("probes of another size are not the trace's: they do not count", () => {
    const p = planTrace(netns, { from: "test2", to: "test1", payloadBytes: 1000 });
    const r = analyzeTrace(p, overlayCaptures(p), lost, running, "t");
    expect(r.hops.every((h) => h.status === "not-seen")).toBe(true);
    expect(r.cause).toMatch(/^seen at no hop; test2 never sent the probe: it has no route or no ARP answer for 198\.18\.100\.2/);
  });

  it("an underlay port that is down: last seen before it, the cut named from tcpdump's error", () => {
    const p = overlayPlan();
    const after = new Set(["switch/v-host1", "host1/eth0", "host1/overlay/vxlan", "host1/overlay/br0", "test1/eth0"]);
    const caps = overlayCaptures(p, (id, c) => {
      if (id === "switch/v-host1") return { ...c, namespace: "tr1-sw", stdout: "", stderr: fixture("error-device-down.stderr") };
      if (after.has(id)) return { ...c, stdout: "" };
      return { ...c, stdout: only(c.stdout!, /echo request/) };
    });
    const r = analyzeTrace(p, caps, lost, running, "t");
    expect(r.hops.find((h) => h.id === "switch/v-host1")).toMatchObject({
      status: "not-captured",
      why: "tcpdump: v-host1: That device is not up",
    });
    expect(r).toMatchObject({ delivered: false, answered: false, lastSeen: "switch/v-host2" });
    expect(r.cause).toBe("last seen at v-host2 in ns-of-switch/v-host2; v-host1 (tr1-sw) is down: the link is cut there");
  });

  it("the source host's link cut below its switch port: named as the link between the host and the switch", () => {
    const p = overlayPlan();
    const seen = new Set(["test2/eth0", "host2/overlay/br0", "host2/overlay/vxlan", "host2/eth0"]);
    const r = analyzeTrace(
      p,
      overlayCaptures(p, (id, c) => ({ ...c, stdout: seen.has(id) ? only(c.stdout!, /echo request/) : "" })),
      lost,
      running,
      "t",
    );
    expect(r.lastSeen).toBe("host2/eth0");
    expect(r.cause).toContain(
      "the underlay link between host2 and the switch is cut: eth0 in ns-of-host2/eth0 on host2 sent it, switch port v-host2 never received it",
    );
  });

  it("seen on the VXLAN device, not on the underlay, with the destination stopped: the state first, then the missing peer", () => {
    const p = overlayPlan();
    const seen = new Set(["test2/eth0", "host2/overlay/br0", "host2/overlay/vxlan"]);
    const caps = overlayCaptures(p, (id, c) =>
      id === "test1/eth0"
        ? { id, namespace: "", device: "eth0", unavailable: "test1 is exited (137): it has no sandbox to capture in" }
        : { ...c, stdout: seen.has(id) ? only(c.stdout!, /echo request/) : "" },
    );
    const stopped: TraceFacts = { ...running, to: { name: "test1", state: "exited (137)", running: false, attached: true } };
    const r = analyzeTrace(p, caps, lost, stopped, "t");
    expect(r.lastSeen).toBe("host2/overlay/vxlan");
    expect(r.cause).toBe(
      "last seen at vxlan0 in ns-of-host2/overlay/vxlan on host2; test1 is exited (137): nothing on ov_net1 has 198.18.100.2 any more; " +
        "the VXLAN device on host2 did not send the packet: no VXLAN peer (FDB entry) for the destination MAC, or no underlay route/ARP to the peer host",
    );
    expect(r.hops.at(-1)).toMatchObject({ status: "not-captured", why: "test1 is exited (137): it has no sandbox to capture in" });
  });

  it("a destination disconnected from the network is named as such", () => {
    const p = overlayPlan();
    const r = analyzeTrace(
      p,
      overlayCaptures(p, (_id, c) => ({ ...c, stdout: "" })),
      lost,
      { ...running, to: { name: "test1", state: "running", running: true, attached: false } },
      "t",
    );
    expect(r.cause).toContain("test1 is not attached to ov_net1 (disconnected): nothing on ov_net1 has 198.18.100.2");
  });

  it("received at the destination, never answered: the destination does not answer", () => {
    const p = overlayPlan();
    const r = analyzeTrace(
      p,
      overlayCaptures(p, (_id, c) => ({ ...c, stdout: only(c.stdout!, /echo request/) })),
      lost,
      running,
      "t",
    );
    expect(r.delivered).toBe(true);
    expect(r.cause).toContain("no reply was seen anywhere: test1 does not answer ICMP echo");
  });

  it("a reply lost on the way back: where it was last seen", () => {
    const p = overlayPlan();
    const back = new Set(["test1/eth0", "host1/overlay/br0", "host1/overlay/vxlan"]);
    const r = analyzeTrace(
      p,
      overlayCaptures(p, (id, c) => (back.has(id) ? c : { ...c, stdout: only(c.stdout!, /echo request/) })),
      lost,
      running,
      "t",
    );
    expect(r).toMatchObject({ delivered: true, answered: false, lastReplySeen: "host1/overlay/vxlan" });
    expect(r.cause).toBe(
      "the reply was last seen at vxlan0 in ns-of-host1/overlay/vxlan on host1 and never reached eth0 in ns-of-host1/eth0 on host1: the way back is broken there",
    );
  });

  it("a capture where tcpdump never listened (nsenter failed) is not captured, not 'not seen'", () => {
    const p = overlayPlan();
    const r = analyzeTrace(
      p,
      overlayCaptures(p, (id, c) =>
        id === "host1/overlay/br0"
          ? { ...c, stdout: "", stderr: "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument\n" }
          : c,
      ),
      answered,
      running,
      "t",
    );
    expect(r.hops.find((h) => h.id === "host1/overlay/br0")).toMatchObject({
      status: "not-captured",
      why: "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument",
    });
  });

  it("external: the NAT hop shows the source before and after MASQUERADE", () => {
    const p = planTrace(netns, { from: "test2", to: "external", payloadBytes: 1111 });
    const text = (id: string): string =>
      id === "test2/eth1" || id === "host2/docker_gwbridge" ? fixture("external-eth1.stdout") : fixture("external-underlay-eth0.stdout");
    const caps = p.hops
      .filter((h) => !h.derived)
      .map((h): HopCapture => ({ id: h.id, namespace: "n", device: h.device, stdout: text(h.id), stderr: LISTENING }));
    const r = analyzeTrace(p, caps, { ...answered, transmitted: 1, received: 1 }, { from: running.from }, "t");
    expect(r.hops.find((h) => h.id === "host2/nat")).toMatchObject({
      status: "seen",
      nat: { before: "198.19.128.2", after: "198.18.0.12" },
    });
    expect(r.cause).toBeUndefined();
    expect(r.vni).toBeUndefined();
    expect(formatTrace(r)).toContain("source 198.19.128.2 -> 198.18.0.12 (MASQUERADE)");
  });
});

describe("renderings of one result", () => {
  const p = overlayPlan();
  const ok = analyzeTrace(p, overlayCaptures(p), answered, running, "t");
  const cut = analyzeTrace(
    p,
    overlayCaptures(p, (id, c) =>
      id === "switch/v-host1"
        ? { ...c, stdout: "", stderr: fixture("error-device-down.stderr") }
        : ["host1/eth0", "host1/overlay/vxlan", "host1/overlay/br0", "test1/eth0"].includes(id)
          ? { ...c, stdout: "" }
          : { ...c, stdout: only(c.stdout!, /echo request/) },
    ),
    lost,
    running,
    "t",
  );

  it("text: one block per hop with device, namespace, host, and the packet there", () => {
    const t = formatTrace(ok);
    expect(t.split("\n")[0]).toBe("trace test2 (198.18.100.3) -> test1 (198.18.100.2) over ov_net1 (overlay), lab tr1");
    expect(t).toContain("ok  4. eth0             ns-of-host2/eth0 @ host2  [underlay]");
    expect(t).toContain(
      "request x2: VXLAN vni 256  198.18.0.12:43477 > 198.18.0.11:4789  ttl 64  (92:e7:a1:64:65:a4 > be:83:33:69:8c:4f)  inner 02:42:c6:12:64:03 > 02:42:c6:12:64:02  198.18.100.3 > 198.18.100.2  ttl 64",
    );
    expect(t).toContain("VNI on the wire: 256 (equals the VXLAN device's own)");
    expect(t.trim().split("\n").at(-1)).toBe("2 probe(s) of 1234 bytes, 2 answered: delivered and answered");
    const c = formatTrace(cut);
    expect(c).toContain("??  6. v-host1");
    expect(c).toContain("--  7. eth0");
    expect(c.trim().split("\n").at(-1)).toContain("0 answered: last seen at v-host2");
  });

  it("Mermaid: one participant per hop, the request forward along the hops that saw it, the reply back, the stop noted", () => {
    const m = traceMermaid(ok).split("\n");
    expect(m[0]).toBe("sequenceDiagram");
    expect(m.filter((l) => /^ {2}participant h\d+ as /.test(l))).toHaveLength(10);
    expect(m.filter((l) => /^ {2}h\d+->>h\d+: /.test(l))).toHaveLength(9);
    expect(m.filter((l) => /^ {2}h\d+-->>h\d+: /.test(l))).toHaveLength(9);
    expect(m).toContain("  h2->>h3: VXLAN vni 256 198.18.0.12 > 198.18.0.11 (request 198.18.100.3 > 198.18.100.2 ttl 64)");
    const c = traceMermaid(cut);
    expect(c.split("\n").filter((l) => l.includes("->>"))).toHaveLength(4);
    expect(c).toContain("  Note over h5: not captured: tcpdump: v-host1: That device is not up");
    expect(c).toContain("  Note over h6: NOT SEEN");
    expect(c).toContain("  Note over h4: stopped: last seen at v-host2");
    // Nothing in a label may end a Mermaid statement.
    for (const l of c.split("\n").slice(1)) expect(l).not.toMatch(/[;#"]/);
  });

  it("SVG: a lifeline per hop with its status, an arrow per step, and it parses as strict XML", () => {
    const doc = svgDoc(traceSvg(ok));
    expect(groups(doc, "hop").map((g) => [g.getAttribute("data-hop"), g.getAttribute("data-status")])).toEqual(
      p.hops.map((h) => [h.id, "seen"]),
    );
    const arrows = groups(doc, "arrow");
    expect(arrows.filter((a) => a.getAttribute("data-dir") === "request")).toHaveLength(9);
    expect(arrows.filter((a) => a.getAttribute("data-dir") === "reply")).toHaveLength(9);
    expect(arrows[3]!.getAttribute("data-from")).toBe("host2/eth0");
    expect(texts(doc).join("\n")).toContain("VXLAN vni 256 198.18.0.12 > 198.18.0.11");

    const cdoc = svgDoc(traceSvg(cut));
    const status = new Map(groups(cdoc, "hop").map((g) => [g.getAttribute("data-hop"), g]));
    expect(status.get("switch/v-host1")!.getAttribute("data-status")).toBe("not-captured");
    expect(texts(status.get("switch/v-host1")!)).toContain("not captured");
    expect(texts(status.get("host1/eth0")!)).toContain("not seen");
    expect(elements(status.get("host1/eth0")!, "line").length).toBe(3); // lifeline + the cross
    expect(groups(cdoc, "arrow")).toHaveLength(4);
    expect(texts(cdoc).join(" ")).toContain("v-host1 (ns-of-switch/v-host1) is down: the link is cut there");
  });
});

describe("npm run trace: arguments", () => {
  const io = { readStdin: () => JSON.stringify(netns) };
  it("two positionals, the plan, a probe size no other traffic has", () => {
    const a = parseTraceCli(["test2", "test1", "--plan", "-", "--count", "2"], io, () => 0.5);
    if (a === "help" || "replay" in a) throw new Error("not a trace run");
    expect(a.request).toEqual({ from: "test2", to: "test1", payloadBytes: 1250, count: 2 });
    expect(a.plan.name).toBe("tr1");
    const b = parseTraceCli(["test2", "external", "--plan", "-", "--size", "1300", "--svg", "x.svg"], io);
    expect(b !== "help" && !("replay" in b) && [b.request.payloadBytes, b.svg]).toEqual([1300, "x.svg"]);
  });

  it("bad usage is one clear error before anything runs", () => {
    const usage = (argv: string[]): string => {
      try {
        parseTraceCli(argv, io);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error("no error");
    };
    expect(usage(["test2", "--plan", "-"])).toBe("give <from> and <to> (got 1 argument(s)), e.g. npm run trace -- test2 test1");
    expect(usage(["test2", "nope", "--plan", "-"])).toContain('<to> = "nope": no such container in lab tr1');
    expect(usage(["test2", "test1", "--plan", "-", "--json", "--mermaid"])).toContain("alternatives");
    expect(usage(["test2", "test1", "--plan", "-", "--count", "0"])).toContain("--count");
    expect(usage(["test2", "test1", "--plan", "-", "--bogus"])).toContain("see --help");
    expect(parseTraceCli(["--help"], io)).toBe("help");
    expect(usage(["--replay", "-"])).toContain("not a trace (no plan/hops/probe)");
    expect(usage(["test2", "--replay", "-"])).toContain("give no <from> <to> with it");
  });

  it("--replay renders a saved trace without a lab", () => {
    const saved = analyzeTrace(overlayPlan(), overlayCaptures(overlayPlan()), answered, running, "t");
    const a = parseTraceCli(["--replay", "-", "--mermaid", "--svg", "t.svg"], { readStdin: () => JSON.stringify(saved) });
    expect(a).toEqual({ replay: saved, json: false, mermaid: true, svg: "t.svg" });
  });
});
