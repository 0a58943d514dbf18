// scripts/verify/probes.sh run for real by busybox sh, in a network namespace of its own (unshare -n:
// gone with the process; its only traffic stays on its loopback and a veth pair inside it, on
// 198.18.250.0/24 and 198.18.251.0/24). What the verifier reads of it is parsed by src/verify/batch.ts.
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";
import { batchCommand, type BatchProbe, parseBatchOutput } from "../../src/verify/batch.js";
import { describeRealLab } from "./gate.js";

/** Runs the batch in a fresh netns: 198.18.250.0/24 answers on lo, 198.18.251.2 (a silent veth peer) never does. */
function runBatch(probes: BatchProbe[], o: { probeTimeoutS?: number; workers?: number; state?: boolean } = {}) {
  const [, , script, ...args] = batchCommand({
    probeTimeoutS: o.probeTimeoutS ?? 8,
    workers: o.workers ?? 8,
    state: o.state ?? false,
    probes,
  });
  const setup =
    "ip link set lo up && ip addr add 198.18.250.1/24 dev lo && ip link add v0 type veth peer name v1 && ip addr add 198.18.251.1/24 dev v0 && ip link set v0 up && ip link set v1 up";
  const t0 = performance.now();
  const r = spawnSync("unshare", ["-n", "sh", "-c", `${setup} && exec busybox sh -c "$0" "$@"`, script!, ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { ...r, ms: performance.now() - t0, batch: parseBatchOutput(r.stdout) };
}

describeRealLab("the probe batch script under busybox sh", () => {
  it("runs the probes concurrently, each with its own attempts, exit codes and times; the state first", () => {
    const r = runBatch(
      [
        { kind: "ping", target: "198.18.251.2", attempts: 2 }, // no reply: 2 attempts of -W 2
        { kind: "ping", target: "198.18.250.1", attempts: 2 }, // replies at once
        { kind: "ping", target: "198.18.250.7", attempts: 1 },
      ],
      { state: true },
    );
    expect(r.status, r.stderr).toBe(0);
    const b = r.batch;
    expect(b.done).toBeDefined();
    expect(b.state).toMatchObject({ exitCode: 0 });
    expect(b.state!.end! - b.state!.start!).toBeGreaterThanOrEqual(0);
    expect(b.state!.end! - b.state!.start!).toBeLessThan(5);
    expect(b.state!.route).toContain("198.18.251.0/24 dev v0");
    expect(b.state!.addr).toContain("inet 198.18.250.1/24");
    expect(b.state!.link).toMatch(/v0@v1/);
    const silent = b.probes.get(0)!;
    expect(silent.attempts.map((a) => a.exitCode)).toEqual([1, 1]);
    expect(silent.attempts[0]!.output).toContain("0 packets received");
    const fast = b.probes.get(1)!;
    expect(fast.attempts).toHaveLength(1);
    expect(fast.attempts[0]).toMatchObject({ exitCode: 0, output: expect.stringContaining("64 bytes from 198.18.250.1") });
    expect(b.probes.get(2)!.attempts[0]!.exitCode).toBe(0);
    // Concurrent: the replying probes ended long before the silent one's 4 s, and all of it took ~4 s.
    expect((fast.end! - fast.start) * 1000).toBeLessThan(1000);
    expect((silent.end! - silent.start) * 1000).toBeGreaterThan(3500);
    expect(r.ms).toBeLessThan(7000);
  });

  it("an attempt never outlasts the probe's timeout: ping's own deadline (-w) ends it, and the batch still finishes", () => {
    // ping -W 2 would wait 2 s; the 1 s probe timeout is ping's -w, so it gives up after 1 s.
    const r = runBatch(
      [
        { kind: "ping", target: "198.18.251.2", attempts: 1 },
        { kind: "ping", target: "198.18.250.1", attempts: 1 },
      ],
      { probeTimeoutS: 1 },
    );
    expect(r.status, r.stderr).toBe(0);
    const silent = r.batch.probes.get(0)!;
    expect(silent.attempts.map((a) => a.exitCode)).toEqual([1]);
    expect(silent.attempts[0]!.output).toContain("0 packets received");
    expect((silent.end! - silent.start) * 1000).toBeLessThan(1500);
    expect(r.batch.probes.get(1)!.attempts.map((a) => a.exitCode)).toEqual([0]);
    expect(r.ms).toBeLessThan(1900);
  });

  it("a probe's attempts share its timeout; a name that does not resolve is not tried again", () => {
    // 3 s: the first attempt waits 2 s for a reply, the second gets the whole second that is left.
    const r = runBatch(
      [
        { kind: "ping", target: "198.18.251.2", attempts: 2 },
        { kind: "ping", target: "no-such-name", attempts: 2 },
      ],
      { probeTimeoutS: 3 },
    );
    expect(r.status, r.stderr).toBe(0);
    const silent = r.batch.probes.get(0)!;
    // No second attempt when the clock has just crossed into the probe's last second.
    expect([[1, 1], [1]]).toContainEqual(silent.attempts.map((a) => a.exitCode));
    expect((silent.end! - silent.start) * 1000).toBeLessThan(3600);
    const unknown = r.batch.probes.get(1)!;
    expect(unknown.attempts).toHaveLength(1);
    expect(unknown.attempts[0]!.output).toContain("bad address 'no-such-name'");
  });

  it("one process per attempt: no timeout watcher and no subshell around the probe command", () => {
    // 40 probes of a silent address, all at once: while they wait, the batch's processes are the
    // shell, one worker subshell per probe and one ping each (busybox timeout and $(...) made it 4).
    const probes = Array.from({ length: 40 }, () => ({ kind: "ping" as const, target: "198.18.251.2", attempts: 1 }));
    const [, , script, ...args] = batchCommand({ probeTimeoutS: 2, workers: 40, state: false, probes });
    const setup =
      "ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add 198.18.251.1/24 dev v0 && ip link set v0 up && ip link set v1 up";
    // A pid namespace of its own: ps sees only the batch (and this counter).
    const count = `(sleep 1; n=$(ps -e -o comm= | grep -c -x ping); t=$(ps -e -o comm= | grep -c -x timeout); echo "pings=$n timeouts=$t" >&2) & exec busybox sh -c "$0" "$@"`;
    const r = spawnSync("unshare", ["-n", "-p", "-f", "--mount-proc", "sh", "-c", `${setup} && { ${count}; }`, script!, ...args], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("pings=40 timeouts=0");
  });

  it("with fewer workers than probes, each worker runs its share one after the other", () => {
    const probes = Array.from({ length: 12 }, (_, i) => ({ kind: "ping" as const, target: `198.18.250.${i + 1}`, attempts: 1 }));
    const r = runBatch(probes, { workers: 3 });
    expect(r.status, r.stderr).toBe(0);
    expect([...r.batch.probes.keys()].sort((a, b) => a - b)).toEqual(probes.map((_, i) => i));
    for (const p of r.batch.probes.values()) expect(p.attempts[0]!.exitCode).toBe(0);
  });

  it("a dns probe: nslookup's output and exit code (no resolver reachable in this namespace)", () => {
    const r = runBatch([{ kind: "dns", target: "test2", attempts: 1 }]);
    expect(r.status, r.stderr).toBe(0);
    const a = r.batch.probes.get(0)!.attempts;
    expect(a).toHaveLength(1);
    expect(a[0]!.exitCode).not.toBe(0);
    expect(a[0]!.output).toMatch(/nslookup/);
  });
});
