import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { buildPlan, netnsCommands, netnsSteps, shellJoin, switchEndName } from "../../src/model/index.js";

// Consul explicitly: the netns default is etcd (Debian's dockerd has no consul backend), the KV step must still handle consul.
const plan = buildPlan({ hostKind: "netns", kv: { kind: "consul" } });
const etcdPlan = buildPlan({ hostKind: "netns", name: "t1", kv: { kind: "etcd" } });

describe("netnsCommands (default plan)", () => {
  const c = netnsCommands(plan, { consulBinary: "/opt/consul/consul" });

  it("switch: namespace lab-sw with br0 carrying the underlay gateway", () => {
    expect(c.switch.create).toEqual([
      "bash",
      "scripts/netns/switch-up.sh",
      "--namespace",
      "lab-sw",
      "--bridge",
      "br0",
      "--gateway",
      "198.18.0.1/24",
    ]);
    expect(c.switch.delete).toEqual([
      "bash",
      "scripts/netns/switch-down.sh",
      "--namespace",
      "lab-sw",
      "--rmdir",
      "/run/dnlab/lab",
      "--rmdir",
      "/var/lib/dnlab/lab",
    ]);
  });

  it("kv: consul in lab-kv at 198.18.0.2, with the given binary", () => {
    expect(c.kv?.create).toEqual([
      "bash",
      "scripts/netns/kv-up.sh",
      "--kind",
      "consul",
      "--name",
      "lab-kv",
      "--namespace",
      "lab-kv",
      "--switch",
      "lab-sw",
      "--bridge",
      "br0",
      "--switch-end",
      "kv",
      "--iface",
      "eth0",
      "--address",
      "198.18.0.2/24",
      "--gateway",
      "198.18.0.1",
      "--port",
      "8500",
      "--dir",
      "/run/dnlab/lab/kv",
      "--consul-bin",
      "/opt/consul/consul",
    ]);
    expect(c.kv?.delete).toEqual(["bash", "scripts/netns/kv-down.sh", "--namespace", "lab-kv", "--dir", "/run/dnlab/lab/kv"]);
  });

  it("hosts: namespace, veth, address, own paths, then the plan's dockerd flags after --", () => {
    expect(c.hosts.map((h) => h.id)).toEqual(["host:host1", "host:host2"]);
    expect(c.hosts[0]!.create).toEqual([
      "bash",
      "scripts/netns/host-up.sh",
      "--name",
      "host1",
      "--namespace",
      "lab-host1",
      "--switch",
      "lab-sw",
      "--bridge",
      "br0",
      "--switch-end",
      "v-host1",
      "--iface",
      "eth0",
      "--address",
      "198.18.0.11/24",
      "--gateway",
      "198.18.0.1",
      "--state-dir",
      "/var/lib/dnlab/lab/host1",
      "--data-root",
      "/var/lib/dnlab/lab/host1/data",
      "--exec-root",
      "/run/dnlab/lab/host1.exec",
      "--pidfile",
      "/run/dnlab/lab/host1.pid",
      "--socket",
      "/run/dnlab/lab/host1.sock",
      "--",
      "--bip",
      "198.19.0.1/24",
      "--default-address-pool",
      "base=198.19.128.0/17,size=24",
      "--cluster-store=consul://198.18.0.2:8500",
      "--cluster-advertise=eth0:2376",
    ]);
    expect(c.hosts[1]!.create).toContain("198.18.0.12/24");
    expect(c.hosts[1]!.create).toContain("198.19.1.1/24");
    expect(c.hosts[0]!.delete).toEqual([
      "bash",
      "scripts/netns/host-down.sh",
      "--namespace",
      "lab-host1",
      "--state-dir",
      "/var/lib/dnlab/lab/host1",
      "--data-root",
      "/var/lib/dnlab/lab/host1/data",
      "--exec-root",
      "/run/dnlab/lab/host1.exec",
      "--pidfile",
      "/run/dnlab/lab/host1.pid",
      "--socket",
      "/run/dnlab/lab/host1.sock",
    ]);
  });

  it("images: busybox:latest plus the workload image, built on each host's socket", () => {
    expect(c.images[1]!.create).toEqual([
      "bash",
      "scripts/netns/busybox-image.sh",
      "--socket",
      "/run/dnlab/lab/host2.sock",
      "--rootfs",
      "/var/lib/dnlab/lab/host2/busybox-rootfs",
      "--busybox",
      "/bin/busybox",
      "--tag",
      "busybox:latest",
      "--tag",
      "busybox:1.36.1",
    ]);
  });

  it("the neighbour table is sized for the lab before anything else, and released by the lab's name", () => {
    // 3 containers: far below the kernel's default 1024, so the reservation is the 1024 of room rounded up.
    expect(c.neighbours.create).toEqual([
      "bash",
      "scripts/netns/neigh-table.sh",
      "reserve",
      "--lab",
      "lab",
      "--gc-thresh3",
      "2048",
      "--dir",
      "/run/dnlab-neigh",
    ]);
    expect(c.neighbours.delete).toEqual(["bash", "scripts/netns/neigh-table.sh", "release", "--lab", "lab", "--dir", "/run/dnlab-neigh"]);
  });

  it("steps come in bring-up order", () => {
    expect(netnsSteps(plan, { consulBinary: "/c" }).map((s) => s.id)).toEqual([
      "neighbours",
      "switch",
      "kv",
      "host:host1",
      "host:host2",
      "image:host1",
      "image:host2",
    ]);
  });
});

describe("netnsCommands options and errors", () => {
  it("etcd needs no binary and uses port 2379", () => {
    const c = netnsCommands(etcdPlan);
    expect(c.kv?.create).toEqual(expect.arrayContaining(["--kind", "etcd", "--port", "2379", "--namespace", "t1-kv"]));
    expect(c.kv?.create).not.toContain("--consul-bin");
    expect(c.hosts[0]!.create).toContain("--cluster-store=etcd://198.18.0.2:2379");
  });

  it("consul without a binary is one clear error naming the fix", () => {
    expect(() => netnsCommands(plan)).toThrow(/kv\.kind = "consul".*consul:build/s);
  });

  it("swarm mode has no KV step, and readiness timeout is passed through", () => {
    const c = netnsCommands(buildPlan({ hostKind: "netns", overlayMode: "swarm" }), { readinessTimeoutSeconds: 90 });
    expect(c.kv).toBeUndefined();
    expect(c.hosts[0]!.create.slice(c.hosts[0]!.create.indexOf("--timeout"), c.hosts[0]!.create.indexOf("--timeout") + 2)).toEqual([
      "--timeout",
      "90",
    ]);
    expect(c.hosts[0]!.create.join(" ")).not.toContain("cluster-store");
  });

  it("rejects non-netns plans (their images are validated once, by buildPlan)", () => {
    expect(() => netnsCommands(buildPlan({ hostKind: "dind" }))).toThrow(/hostKind = "dind"/);
    expect(() => buildPlan({ hostKind: "netns", kv: { kind: "etcd" }, images: { workload: "nginx:1" } })).toThrow(
      /lab:images\.workload = "nginx:1"/,
    );
  });

  it("custom busybox tags are added, long host names get an index-based switch end", () => {
    const p = buildPlan({
      hostKind: "netns",
      kv: { kind: "etcd" },
      workloads: [{ name: "w", host: "host1", networks: ["ov_net1"], image: "busybox:1.35" }],
    });
    expect(netnsCommands(p).images[0]!.create.slice(-6)).toEqual([
      "--tag",
      "busybox:latest",
      "--tag",
      "busybox:1.36.1",
      "--tag",
      "busybox:1.35",
    ]);
    expect(switchEndName({ name: "host1", index: 0 })).toBe("v-host1");
    expect(switchEndName({ name: "a-very-long-hostname", index: 3 })).toBe("vx3");
  });
});

describe("shellJoin", () => {
  it("leaves safe words bare and single-quotes the rest", () => {
    expect(shellJoin(["bash", "scripts/netns/host-up.sh", "--address", "198.18.0.11/24", "base=198.19.128.0/17,size=24"])).toBe(
      "bash scripts/netns/host-up.sh --address 198.18.0.11/24 base=198.19.128.0/17,size=24",
    );
    expect(shellJoin(["a b", "", "it's", "$(x)", "*"])).toBe(`'a b' '' 'it'\\''s' '$(x)' '*'`);
  });

  it("round-trips through a real shell", () => {
    const argv = ["a b", "", "it's", "$(echo no)", "*", "x\ny", "--cluster-store=etcd://198.18.0.2:2379", "'", "\\"];
    const out = execFileSync("sh", ["-c", `for a in ${shellJoin(argv)}; do printf '%s\\0' "$a"; done`], { encoding: "utf8" });
    expect(out.split("\0").slice(0, -1)).toEqual(argv);
  });
});
