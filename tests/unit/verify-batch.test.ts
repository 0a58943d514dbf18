// The batch of probes one exec runs in a container: its command line and the reading of what
// scripts/verify/probes.sh prints (the script itself runs for real in tests/reallab/probes-script.test.ts).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { batchCommand, isTimeoutExit, parseBatchOutput, probesScript } from "../../src/verify/batch.js";

describe("batchCommand", () => {
  it("sh -c with the script from the repo, then TIMEOUT WORKERS STATE and one word list per probe", () => {
    const cmd = batchCommand({
      probeTimeoutS: 2.5,
      workers: 8,
      state: true,
      probes: [
        { kind: "ping", target: "test2", attempts: 2 },
        { kind: "dns", target: "web", attempts: 1 },
      ],
    });
    expect(cmd.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(cmd[2]).toBe(readFileSync(new URL("../../scripts/verify/probes.sh", import.meta.url), "utf8"));
    expect(cmd.slice(3)).toEqual(["dnlab-probes", "3", "8", "1", "ping test2 2", "dns web 1"]);
  });

  it("refuses a target that is not one word (the script splits probes into words)", () => {
    expect(() =>
      batchCommand({ probeTimeoutS: 1, workers: 1, state: false, probes: [{ kind: "ping", target: "a b", attempts: 1 }] }),
    ).toThrow(/"a b" is not one word/);
  });

  it("the script is strict, and cleans up its temporary directory", () => {
    const s = probesScript();
    expect(s).toContain("set -euo pipefail");
    expect(s).toContain(`trap 'rm -rf "$dir"' EXIT`);
  });
});

describe("parseBatchOutput", () => {
  const out = [
    "@@state 0 100.250000 100.201000",
    "default via 198.19.128.1 dev eth1 ",
    "198.18.100.0/24 dev eth0 scope link  src 198.18.100.2",
    "@@",
    "5: eth0    inet 198.18.100.2/24 brd x scope global eth0",
    "@@",
    "5: eth0@if6: <BROADCAST,UP> mtu 1450",
    "@@probe 1 100.200000",
    "@@attempt",
    "nslookup output",
    "@@exit 0",
    "@@end 1 100.210500",
    "@@probe 0 100.200100",
    "@@attempt",
    "PING test2 (198.18.100.3): 56 data bytes",
    "@@exit 1",
    "@@attempt",
    "Terminated",
    "@@exit 143",
    "@@end 0 102.300100",
    "@@probe 2 100.3",
    "@@attempt",
    "cut off",
    "@@done 102.400000",
    "",
  ].join("\n");

  it("reads the state sections, each probe's attempts with exit codes, and the clock readings", () => {
    const b = parseBatchOutput(out);
    expect(b.state).toEqual({
      exitCode: 0,
      start: 100.201,
      end: 100.25,
      route: "default via 198.19.128.1 dev eth1 \n198.18.100.0/24 dev eth0 scope link  src 198.18.100.2",
      addr: "5: eth0    inet 198.18.100.2/24 brd x scope global eth0",
      link: "5: eth0@if6: <BROADCAST,UP> mtu 1450",
    });
    expect(b.probes.get(1)).toEqual({ start: 100.2, end: 100.2105, attempts: [{ exitCode: 0, output: "nslookup output" }] });
    expect(b.probes.get(0)!.attempts).toEqual([
      { exitCode: 1, output: "PING test2 (198.18.100.3): 56 data bytes" },
      { exitCode: 143, output: "Terminated" },
    ]);
    expect(isTimeoutExit(b.probes.get(0)!.attempts[1]!.exitCode)).toBe(true);
    // A probe without its end line has no end (the verifier reports it as not run).
    expect(b.probes.get(2)).toEqual({ start: 100.3, attempts: [] });
    expect(b.done).toBe(102.4);
  });

  it("epoch seconds with microseconds keep their precision", () => {
    const b = parseBatchOutput("@@probe 0 1795952784.877728\n@@attempt\n@@exit 0\n@@end 0 1795952784.879312\n@@done 1795952784.9\n");
    expect((b.probes.get(0)!.end! - b.probes.get(0)!.start) * 1000).toBeCloseTo(1.584, 3);
  });

  it("output without @@done: the script did not finish", () => {
    expect(parseBatchOutput("sh: can't create /tmp/x: Read-only file system\n").done).toBeUndefined();
  });
});
