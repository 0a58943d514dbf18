// scripts/faults/fault.sh with stand-ins for tc, ip and iptables on PATH: the commands it runs, exactly,
// for the paths this machine's kernel cannot take (netem: delay, and loss where netem exists), and its
// refusals; under every shell a host may run it with (dash, busybox ash, bash). No root needed: nothing
// real is touched. The real kernel paths (iptables, ip link) run in tests/reallab/faults.test.ts.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findBinary } from "../reallab/binaries.js";

const SCRIPT = new URL("../../scripts/faults/fault.sh", import.meta.url).pathname;

/**
 * tc, ip, iptables and ss that log their argv (one line each) and keep the little state fault.sh reads
 * back: the root qdisc (noqueue, or what was added), the link's MTU and flags, whether netem and tc exist.
 */
const STUB = `#!/bin/bash
echo "$(basename "$0") $*" >>"$STUB_DIR/calls"
st=$STUB_DIR/state
case "$(basename "$0") $*" in
  "tc qdisc show dev eth0 root") echo "qdisc $(cat "$st/root" 2>/dev/null || echo noqueue) 0: root refcnt 2" ;;
  "tc qdisc add dev eth0 root netem"*)
    [ -e "$st/no-netem" ] && { echo "Error: Specified qdisc kind is unknown." >&2; exit 2; }
    echo netem >"$st/root" ;;
  "tc qdisc add dev "*" root netem"*) [ -e "$st/no-netem" ] && exit 2 ;;
  "tc qdisc del dev eth0 root") rm -f "$st/root" ;;
  "ip -o link show dev eth0") echo "2: eth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu $(cat "$st/mtu" 2>/dev/null || echo 1500) qdisc noqueue state UP" ;;
  "ip link set dev eth0 mtu "*) echo "\${@: -1}" >"$st/mtu" ;;
  "ip link add "*" type ifb") [ -e "$st/no-ifb" ] && exit 2 ;;
  "iptables -w 5 -C "*) exit 1 ;;
  "iptables -w 5 -S "*) exit 1 ;;
esac
exit 0
`;

// busybox ash is not among them: Debian's busybox-static prefers its own applets (tc, ip) to PATH, so
// stand-ins cannot replace them there; its syntax is checked below.
const SHELLS = [
  ["dash", "sh"],
  ["bash", "bash"],
] as const;

let dir = "";
const calls = (): string[] => (existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8").trim().split("\n") : []);
const reset = (): void => rmSync(join(dir, "calls"), { force: true });

function fault(shell: string, ...args: string[]): { code: number; out: string } {
  const r = spawnSync(shell, [SCRIPT, ...args], {
    encoding: "utf8",
    // Only the stand-ins and the basic tools: the machine's own tc and iptables (in /usr/sbin) stay out of reach.
    env: { PATH: `${join(dir, "bin")}:/usr/bin:/bin`, STUB_DIR: dir },
  });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fault-script-"));
  spawnSync("mkdir", ["-p", join(dir, "bin"), join(dir, "state")]);
  for (const tool of ["tc", "ip", "iptables", "ss"]) {
    writeFileSync(join(dir, "bin", tool), STUB);
    chmodSync(join(dir, "bin", tool), 0o755);
  }
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ID = "0a0b0c0d";
const common = (state: string) => ["--state-dir", state, "--id", ID, "--name", "f1", "--iface", "eth0"];

describe.each(SHELLS)("fault.sh under %s", (_name, shell) => {
  const runnable = findBinary(shell) !== undefined;
  it.runIf(runnable)("delay: netem on the interface's root with the jitter, removed by deleting that root qdisc", () => {
    const state = join(dir, "faults");
    const apply = fault(shell, "apply", ...common(state), "--kind", "delay", "--delay-ms", "50", "--jitter-ms", "5");
    expect(apply.code, apply.out).toBe(0);
    expect(apply.out).toContain("applied delay fault f1: delays what eth0 sends by 50ms ± 5ms (netem)");
    expect(calls()).toEqual(["tc qdisc show dev eth0 root", "tc qdisc add dev eth0 root netem delay 50ms 5ms"]);
    // Again with the same settings: in effect already, nothing is run but the check.
    reset();
    expect(fault(shell, "apply", ...common(state), "--kind", "delay", "--delay-ms", "50", "--jitter-ms", "5").out).toContain(
      "already in effect",
    );
    expect(calls()).toEqual(["tc qdisc show dev eth0 root"]);
    // Another delay (an update in place): the old qdisc goes first.
    reset();
    expect(fault(shell, "apply", ...common(state), "--kind", "delay", "--delay-ms", "80").code).toBe(0);
    expect(calls()).toEqual(["tc qdisc del dev eth0 root", "tc qdisc show dev eth0 root", "tc qdisc add dev eth0 root netem delay 80ms"]);
    reset();
    const remove = fault(shell, "remove", "--state-dir", state, "--id", ID);
    expect(remove.code, remove.out).toBe(0);
    expect(calls()).toEqual(["tc qdisc del dev eth0 root"]);
    expect(existsSync(state)).toBe(false);
  });

  it.runIf(runnable)(
    "delay: refused on a kernel without netem, on an interface with a qdisc of someone's, without tc; nothing recorded",
    () => {
      const state = join(dir, "faults");
      writeFileSync(join(dir, "state", "no-netem"), "");
      const noNetem = fault(shell, "apply", ...common(state), "--kind", "delay", "--delay-ms", "50");
      expect(noNetem.code).toBe(1);
      expect(noNetem.out).toContain("this kernel has no netem (sch_netem), which delay needs: Error: Specified qdisc kind is unknown.");
      expect(existsSync(join(state, ID))).toBe(false);
      rmSync(join(dir, "state", "no-netem"));
      writeFileSync(join(dir, "state", "root"), "tbf");
      reset();
      const taken = fault(shell, "apply", ...common(state), "--kind", "delay", "--delay-ms", "50");
      expect(taken.out).toContain("eth0 already has a root qdisc (tbf) the lab did not put there");
      expect(calls().filter((c) => c.startsWith("tc qdisc add"))).toEqual([]);
      rmSync(join(dir, "bin", "tc"));
      const noTc = fault(shell, "apply", ...common(state), "--kind", "delay", "--delay-ms", "50");
      expect(noTc.out).toContain("delay needs tc (iproute2) on this host");
      expect(existsSync(join(state, ID))).toBe(false);
    },
  );

  it.runIf(runnable)("loss where the kernel has netem: egress netem, ingress through an ifb device; removed in reverse", () => {
    const state = join(dir, "faults");
    const apply = fault(shell, "apply", ...common(state), "--kind", "loss", "--loss", "30");
    expect(apply.code, apply.out).toBe(0);
    const ifb = `dnlab${ID}`;
    expect(calls()).toEqual([
      "tc qdisc show dev eth0 root",
      "tc qdisc add dev eth0 root netem loss 30%",
      `ip link add ${ifb} type ifb`,
      `ip link set dev ${ifb} up`,
      "tc qdisc add dev eth0 handle ffff: ingress",
      `tc filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev ${ifb}`,
      `tc qdisc add dev ${ifb} root netem loss 30%`,
    ]);
    expect(apply.out).toContain("drops 30% of the packets in and out of eth0 (netem, ingress through dnlab0a0b0c0d)");
    reset();
    expect(fault(shell, "remove", "--state-dir", state, "--id", ID).code).toBe(0);
    expect(calls().filter((c) => !c.startsWith("iptables"))).toEqual([
      "tc qdisc del dev eth0 handle ffff: ingress",
      "tc qdisc del dev eth0 root",
      `ip link del ${ifb}`,
    ]);
  });

  it.runIf(runnable)("loss without netem, or with ports to spare: iptables' statistic match in and out, the spared ports first", () => {
    const state = join(dir, "faults");
    writeFileSync(join(dir, "state", "no-netem"), "");
    expect(fault(shell, "apply", ...common(state), "--kind", "loss", "--loss", "40").code).toBe(0);
    // netem was tried, undone, and iptables took over.
    expect(calls()).toContain("tc qdisc add dev eth0 root netem loss 40%");
    expect(calls().filter((c) => c.startsWith("iptables -w 5 -A") || c.startsWith("iptables -w 5 -I"))).toEqual([
      `iptables -w 5 -A DNLAB-${ID}-I -m statistic --mode random --probability 0.4000 -j DROP`,
      `iptables -w 5 -A DNLAB-${ID}-O -m statistic --mode random --probability 0.4000 -j DROP`,
      `iptables -w 5 -I INPUT 1 -i eth0 -j DNLAB-${ID}-I`,
      `iptables -w 5 -I FORWARD 1 -i eth0 -j DNLAB-${ID}-I`,
      `iptables -w 5 -I OUTPUT 1 -o eth0 -j DNLAB-${ID}-O`,
      `iptables -w 5 -I FORWARD 1 -o eth0 -j DNLAB-${ID}-O`,
    ]);
    fault(shell, "remove", "--state-dir", state, "--id", ID);
    rmSync(join(dir, "state", "no-netem"));
    reset();
    expect(fault(shell, "apply", ...common(state), "--kind", "loss", "--loss", "30", "--spare-tcp-port", "2375").code).toBe(0);
    expect(calls().some((c) => c.startsWith("tc "))).toBe(false);
    expect(calls().filter((c) => c.includes("RETURN"))).toEqual([
      `iptables -w 5 -A DNLAB-${ID}-I -p tcp --dport 2375 -j RETURN`,
      `iptables -w 5 -A DNLAB-${ID}-I -p tcp --sport 2375 -j RETURN`,
      `iptables -w 5 -A DNLAB-${ID}-O -p tcp --sport 2375 -j RETURN`,
      `iptables -w 5 -A DNLAB-${ID}-O -p tcp --dport 2375 -j RETURN`,
    ]);
  });

  it.runIf(runnable)("mtu: the KV store's established connections are reset after the MTU is set; an ss that cannot, a warning", () => {
    const state = join(dir, "faults");
    const apply = fault(shell, "apply", ...common(state), "--kind", "mtu", "--mtu", "1400", "--reset-tcp-port", "8500");
    expect(apply.code, apply.out).toBe(0);
    expect(apply.out).toContain("eth0 MTU 1500 -> 1400 (TCP connections of port 8500 reset)");
    expect(calls()).toEqual([
      "ip -o link show dev eth0",
      "ip link set dev eth0 mtu 1400",
      "ss -K -t state established ( dport = :8500 or sport = :8500 )",
    ]);
    expect(fault(shell, "remove", "--state-dir", state, "--id", ID).code).toBe(0);
    // An ss without -K (busybox has no ss at all; the machine's own must not run here): it fails.
    writeFileSync(join(dir, "bin", "ss"), "#!/bin/sh\necho 'ss: invalid option -- K' >&2\nexit 1\n");
    const noSs = fault(shell, "apply", ...common(state), "--kind", "mtu", "--mtu", "1400", "--reset-tcp-port", "8500");
    expect(noSs.code, noSs.out).toBe(0);
    expect(noSs.out).toContain("warning: could not reset the TCP connections of port 8500 (no ss -K here)");
  });

  it.runIf(runnable)("mtu: the old MTU is recorded and put back; prune removes what the plan no longer has", () => {
    const state = join(dir, "faults");
    expect(fault(shell, "apply", ...common(state), "--kind", "mtu", "--mtu", "1400").code).toBe(0);
    expect(calls()).toContain("ip link set dev eth0 mtu 1400");
    const status = fault(shell, "status", "--state-dir", state);
    expect(status.out).toMatch(new RegExp(`^fault ${ID} f1 mtu method=- since=\\S+ active$`, "m"));
    reset();
    expect(fault(shell, "prune", "--state-dir", state, "--keep", "ffffffff").code).toBe(0);
    expect(calls()).toEqual(["ip link set dev eth0 mtu 1500"]);
    expect(existsSync(state)).toBe(false);
  });
});

describe("fault.sh refuses bad input before it changes anything", () => {
  it.runIf(findBinary("busybox") !== undefined)("parses under busybox ash (the official docker:dind image's shell)", () => {
    const r = spawnSync("busybox", ["sh", "-n", SCRIPT], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  });

  it("an unknown subcommand, kind or option, and a missing state dir", () => {
    const state = join(dir, "faults");
    expect(fault("sh", "break").out).toContain("unknown subcommand 'break'");
    expect(fault("sh", "apply", ...common(state), "--kind", "flood").out).toContain("unknown kind 'flood'");
    expect(fault("sh", "apply", "--bogus", "1").out).toContain("unknown option '--bogus'");
    expect(fault("sh", "status").out).toContain("--state-dir is required");
    expect(calls()).toEqual([]);
  });
});
