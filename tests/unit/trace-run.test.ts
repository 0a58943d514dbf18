// runTrace on hosts it cannot capture on (dind, ssh): no capture is started, the probes still run in the
// source container through the Docker API, and the result says whether they were answered and which hops
// could not be seen, and why. The engine is the verifier's scripted fake.
import { describe, expect, it } from "vitest";
import { buildPlan } from "../../src/model/index.js";
import { runTrace } from "../../src/trace/capture.js";
import { container, FakeEngine, failed, ok } from "./verify-fake.js";

const plan = buildPlan({});
const PING_OK =
  "PING 198.18.100.2 (198.18.100.2): 1234 data bytes\n1242 bytes from 198.18.100.2: seq=0 ttl=64 time=0.2 ms\n\n--- 198.18.100.2 ping statistics ---\n2 packets transmitted, 2 packets received, 0% packet loss\n";
const PING_LOST =
  "PING 198.18.100.2 (198.18.100.2): 1234 data bytes\n\n--- 198.18.100.2 ping statistics ---\n2 packets transmitted, 0 packets received, 100% packet loss\n";

function engines(pingOutput: string, test1Running = true): { factory: (e: string, host: string) => FakeEngine; all: FakeEngine[] } {
  const all: FakeEngine[] = [];
  const factory = (endpoint: string): FakeEngine => {
    const e = new FakeEngine(endpoint, (_c, cmd) =>
      cmd[0] === "ping" ? (pingOutput === PING_OK ? ok(pingOutput) : failed(pingOutput)) : failed("unexpected"),
    );
    e.containers.set("test1", container("test1", { ov_net1: { ip: "198.18.100.2" } }, test1Running));
    e.containers.set("test2", container("test2", { ov_net1: { ip: "198.18.100.3" } }));
    all.push(e);
    return e;
  };
  return { factory, all };
}

describe("runTrace on dind hosts", () => {
  it("probes through the API, captures nothing, and lists every hop as not visible with its reason", async () => {
    const { factory, all } = engines(PING_OK);
    const r = await runTrace(plan, { from: "test2", to: "test1", payloadBytes: 1234, count: 2 }, { engineFactory: factory });
    const execs = all.flatMap((e) => e.execs.map((x) => [x.container, x.cmd.join(" ")]));
    expect(execs).toEqual([["test2", "ping -c 2 -s 1234 -W 1 198.18.100.2"]]);
    expect(r.probe).toMatchObject({ exitCode: 0, transmitted: 2, received: 2 });
    expect(r).toMatchObject({ delivered: true, answered: true });
    expect(r.cause).toBeUndefined();
    expect(r.hops.every((h) => h.status === "not-captured" && /dind host|Docker bridge of the local engine/.test(h.why ?? ""))).toBe(true);
    expect(all.every((e) => e.closed)).toBe(true);
  });

  it("a lost probe: not delivered, and the stop cannot be located from here", async () => {
    const { factory } = engines(PING_LOST);
    const r = await runTrace(plan, { from: "test2", to: "test1", payloadBytes: 1234, count: 2 }, { engineFactory: factory });
    expect(r).toMatchObject({ delivered: false, answered: false });
    expect(r.cause).toMatch(/^seen at no hop; the hops after that could not be captured \(test2\/eth0: host2 is a dind host/);
  });

  it("a stopped destination is named from the daemon, even with no capture", async () => {
    const { factory } = engines(PING_LOST, false);
    const r = await runTrace(plan, { from: "test2", to: "test1", payloadBytes: 1234, count: 2 }, { engineFactory: factory });
    expect(r.facts).toEqual(["test2: running, on ov_net1", "test1: exited (137), on ov_net1"]);
    expect(r.cause).toBe("seen at no hop; test1 is exited (137): nothing on ov_net1 has 198.18.100.2 any more");
  });
});
