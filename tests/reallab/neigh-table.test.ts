// scripts/netns/neigh-table.sh on this machine's kernel: reservations by lab name raise the neighbour
// table to the largest one, and the last release puts the machine's own values back and leaves no file.
// Real-lab files run one at a time (vitest.config.ts), so no lab of another test holds a reservation
// while this runs; one left by something else on the machine is respected, and the test says so.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { afterAll, expect, it } from "vitest";
import { NEIGH_RESERVATIONS_DIR } from "../../src/model/index.js";
import { describeRealLab } from "./gate.js";

const SYS = "/proc/sys/net/ipv4/neigh/default";
const read = (k: string): number => Number(readFileSync(`${SYS}/${k}`, "utf8").trim());
const script = (...args: string[]) => {
  const r = spawnSync("bash", ["scripts/netns/neigh-table.sh", ...args, "--dir", NEIGH_RESERVATIONS_DIR], {
    encoding: "utf8",
    timeout: 30_000,
  });
  expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
};
const LABS = ["nbtest-a", "nbtest-b"];
const others = (): string[] =>
  existsSync(NEIGH_RESERVATIONS_DIR) ? readdirSync(NEIGH_RESERVATIONS_DIR).filter((f) => !f.startsWith(".") && !LABS.includes(f)) : [];

describeRealLab("the kernel's neighbour table, sized per lab (neigh-table.sh)", () => {
  afterAll(() => {
    for (const lab of LABS) spawnSync("bash", ["scripts/netns/neigh-table.sh", "release", "--lab", lab, "--dir", NEIGH_RESERVATIONS_DIR]);
  });

  it("raises gc_thresh3 to the largest reservation (gc_thresh2 to half), idempotently, and restores the machine's values after the last release", () => {
    const before = { t2: read("gc_thresh2"), t3: read("gc_thresh3") };
    const foreign = others();
    const big = before.t3 + 4096;
    script("reserve", "--lab", "nbtest-a", "--gc-thresh3", String(big));
    script("reserve", "--lab", "nbtest-a", "--gc-thresh3", String(big)); // again: same state
    expect(read("gc_thresh3")).toBe(big);
    expect(read("gc_thresh2")).toBe(Math.max(before.t2, big / 2));
    expect(readFileSync(`${NEIGH_RESERVATIONS_DIR}/nbtest-a`, "utf8").trim()).toBe(String(big));

    // A smaller second lab changes nothing; the larger one stays in force until it is released.
    script("reserve", "--lab", "nbtest-b", "--gc-thresh3", String(before.t3 + 1024));
    expect(read("gc_thresh3")).toBe(big);
    script("release", "--lab", "nbtest-a");
    expect(read("gc_thresh3")).toBe(before.t3 + 1024);
    expect(existsSync(`${NEIGH_RESERVATIONS_DIR}/nbtest-a`)).toBe(false);

    script("release", "--lab", "nbtest-b");
    script("release", "--lab", "nbtest-b"); // releasing twice is fine
    if (foreign.length > 0) {
      // Someone else's lab still reserves: the table stays at least at what it needs.
      expect(read("gc_thresh3")).toBeGreaterThanOrEqual(before.t3);
      return;
    }
    expect({ t2: read("gc_thresh2"), t3: read("gc_thresh3") }).toEqual(before);
    expect(existsSync(NEIGH_RESERVATIONS_DIR)).toBe(false);
  });

  it("refuses a size that is not a positive number, naming it, and changes nothing", () => {
    const t3 = read("gc_thresh3");
    const r = spawnSync(
      "bash",
      ["scripts/netns/neigh-table.sh", "reserve", "--lab", "nbtest-a", "--gc-thresh3", "lots", "--dir", NEIGH_RESERVATIONS_DIR],
      { encoding: "utf8" },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("--gc-thresh3 must be a positive number, got 'lots'");
    expect(read("gc_thresh3")).toBe(t3);
    expect(existsSync(`${NEIGH_RESERVATIONS_DIR}/nbtest-a`)).toBe(false);
    if (others().length === 0) expect(existsSync(NEIGH_RESERVATIONS_DIR)).toBe(false); // not even its lock
  });
});
