// The plan's mappings: addresses, daemon flags per overlay mode, macvlan partitions, checks.
import { describe, expect, it } from "vitest";
import { buildPlan, checkCount, daemonPlan, expandChecks, parseCidr, overlaps, split, formatCidr } from "../../src/model/index.js";

describe("default plan (the reference scenario in 198.18.0.0/15)", () => {
  const plan = buildPlan({});

  it("has two dind hosts, Consul, ov_net1, mv_net1 and test1..test3", () => {
    expect(plan.hostKind).toBe("dind");
    expect(plan.hosts.map((h) => [h.name, h.address, h.endpoint])).toEqual([
      ["host1", "198.18.0.11", "tcp://127.0.0.1:23751"],
      ["host2", "198.18.0.12", "tcp://127.0.0.1:23752"],
    ]);
    expect(plan.kv).toMatchObject({
      kind: "consul",
      address: "198.18.0.2",
      port: 8500,
      url: "consul://198.18.0.2:8500",
      provision: "local-container",
    });
    expect(plan.networks.map((n) => `${n.name}:${n.driver}:${n.subnet}`)).toEqual([
      "ov_net1:overlay:198.18.100.0/24",
      "mv_net1:macvlan:198.18.0.0/24",
    ]);
    expect(plan.workloads.map((w) => `${w.name}@${w.host}:${w.attachments.map((a) => `${a.network}=${a.ipv4}`).join(",")}`)).toEqual([
      "test1@host1:ov_net1=198.18.100.2",
      "test2@host2:ov_net1=198.18.100.3",
      "test3@host1:mv_net1=198.18.0.128",
    ]);
  });

  it("computes the classic cluster-store flags, as in the article", () => {
    expect(plan.hosts[0]!.daemon.args).toEqual([
      "--bip",
      "198.19.0.1/24",
      "--default-address-pool",
      "base=198.19.128.0/17,size=24",
      "--cluster-store=consul://198.18.0.2:8500",
      "--cluster-advertise=eth0:2376",
    ]);
    expect(plan.hosts[1]!.daemon.bip).toBe("198.19.1.1/24");
    expect(plan.hosts[1]!.daemon.daemonJson).toEqual({
      bip: "198.19.1.1/24",
      "default-address-pools": [{ base: "198.19.128.0/17", size: 24 }],
      "cluster-store": "consul://198.18.0.2:8500",
      "cluster-advertise": "eth0:2376",
    });
  });

  it("gives every host a disjoint macvlan ip-range inside the subnet, away from host addresses", () => {
    const mv = plan.networks.find((n) => n.driver === "macvlan");
    expect(mv?.driver === "macvlan" && mv.ranges).toEqual([
      { host: "host1", ipRange: "198.18.0.128/26" },
      { host: "host2", ipRange: "198.18.0.192/26" },
    ]);
  });

  it("derives the verification checks of the scenario", () => {
    const ids = expandChecks(plan.checks).map((c) => `${c.id}:${c.expect}`);
    expect(ids).toContain("ping-name:test2->test1@ov_net1:pass");
    expect(ids).toContain("ping-name:test1->test2@ov_net1:pass");
    expect(ids).toContain("ping-ip:test2->test1@ov_net1:pass");
    expect(ids).toContain("dns:test2->test1@ov_net1:pass");
    expect(ids).toContain("gwbridge-route:test1@ov_net1:pass");
    expect(ids).toContain("external:test1->198.18.0.2:pass");
    expect(ids).toContain("vxlan:host1@ov_net1:pass");
    expect(ids).toContain("host-ping:host1->test3@mv_net1:fail");
    expect(ids).toContain("host-ping:host2->test3@mv_net1:pass");
    expect(ids).toContain("cnm:test3:pass");
    const dns = expandChecks(plan.checks).find((c) => c.id === "dns:test2->test1@ov_net1");
    expect(dns?.expectedIp).toBe("198.18.100.2");
    expect(new Set(expandChecks(plan.checks).map((c) => c.id)).size).toBe(checkCount(plan.checks));
  });
});

describe("pairwise checks as groups", () => {
  it("one group per network and source host: its containers x the other hosts' containers x the probes", () => {
    const plan = buildPlan({
      workloads: [
        { name: "a1", host: "host1", networks: ["ov_net1"] },
        { name: "a2", host: "host1", networks: ["ov_net1"] },
        { name: "b1", host: "host2", networks: ["ov_net1", "mv_net1"] },
        { name: "b2", host: "host1", networks: ["mv_net1"] },
      ],
    });
    expect(
      plan.checks.pairs.map((g) => [g.network, g.host, g.sources, g.targets.map((t) => t.name), g.probes.map((p) => p.probe)]),
    ).toEqual([
      ["ov_net1", "host1", ["a1", "a2"], ["b1"], ["ping-name", "dns", "ping-ip"]],
      ["ov_net1", "host2", ["b1"], ["a1", "a2"], ["ping-name", "dns", "ping-ip"]],
      ["mv_net1", "host1", ["b2"], ["b1"], ["ping-ip"]],
      ["mv_net1", "host2", ["b1"], ["b2"], ["ping-ip"]],
    ]);
    const all = expandChecks(plan.checks);
    const pairIds = all.filter((c) => /^(ping-name|dns|ping-ip):/.test(c.id) && !c.id.includes("->host")).map((c) => c.id);
    // 2x1 + 1x2 ordered overlay pairs, 3 probes each; 2 macvlan pairs by IP.
    expect(pairIds).toHaveLength(4 * 3 + 2);
    expect(all.find((c) => c.id === "ping-name:a2->b1@ov_net1")).toEqual({
      id: "ping-name:a2->b1@ov_net1",
      kind: "ping",
      from: "a2",
      host: "host1",
      network: "ov_net1",
      target: "b1",
      expectedIp: plan.workloads.find((w) => w.name === "b1")!.attachments[0]!.ipv4,
      expect: "pass",
      reason: "cross-host overlay (VXLAN), by name",
    });
    expect(all.find((c) => c.id === "ping-ip:b2->b1@mv_net1")).toMatchObject({
      kind: "ping",
      target: "198.18.0.192",
      reason: "cross-host macvlan, by IP",
    });
    expect(checkCount(plan.checks)).toBe(all.length);
  });

  it("a plan of 1000 containers holds its pairs in a few groups, not millions of objects", () => {
    const plan = buildPlan({
      underlay: { subnet: "198.18.0.0/20" },
      hosts: Array.from({ length: 10 }, (_, i) => ({ name: `h${i + 1}`, address: `198.18.1.${i + 1}` })),
      networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.16.0/20" }],
      workloads: Array.from({ length: 1000 }, (_, i) => ({ name: `c${i + 1}`, host: `h${(i % 10) + 1}`, networks: ["ov_net1"] })),
    });
    expect(plan.checks.pairs).toHaveLength(10);
    expect(plan.checks.pairs.every((g) => g.sources.length === 100 && g.targets.length === 900)).toBe(true);
    expect(checkCount(plan.checks)).toBe(1000 * 900 * 3 + plan.checks.single.length);
  });
});

describe("alias checks", () => {
  it("each alias resolves on each of the container's networks: from the other hosts on an overlay, from its own host on a macvlan", () => {
    const plan = buildPlan({
      workloads: [
        { name: "test1", host: "host1", networks: ["ov_net1", "mv_net1"], aliases: ["web"] },
        { name: "test2", host: "host2", networks: ["ov_net1"] },
        { name: "test3", host: "host1", networks: ["mv_net1"] },
        { name: "test4", host: "host2", networks: ["mv_net1"] },
      ],
    });
    const alias = expandChecks(plan.checks).filter((c) => c.id.startsWith("dns-alias:"));
    expect(alias.map((c) => [c.id, c.host, c.expectedIp])).toEqual([
      ["dns-alias:test2->web=test1@ov_net1", "host2", "198.18.100.2"],
      ["dns-alias:test3->web=test1@mv_net1", "host1", "198.18.0.128"],
    ]);
    expect(alias.every((c) => c.kind === "dns" && c.target === "web")).toBe(true);
  });
});

describe("gwbridge checks", () => {
  it("only for containers whose networks are all overlays: a macvlan gives the container its own gateway", () => {
    const plan = buildPlan({
      workloads: [
        { name: "test1", host: "host1", networks: ["ov_net1"] },
        { name: "test2", host: "host2", networks: ["ov_net1"] },
        { name: "test4", host: "host2", networks: ["ov_net1", "mv_net1"] },
      ],
    });
    const ids = expandChecks(plan.checks).map((c) => c.id);
    expect(ids).toContain("gwbridge-route:test1@ov_net1");
    expect(ids).toContain("external:test2->198.18.0.2");
    expect(ids.filter((id) => id.startsWith("gwbridge-route:test4") || id.startsWith("external:test4"))).toEqual([]);
    // test4 is still probed across the overlay.
    expect(ids).toContain("ping-name:test4->test1@ov_net1");
  });
});

describe("overlay modes", () => {
  it("swarm mode drops the cluster-store flags and plans an address pool and a manager", () => {
    const plan = buildPlan({ overlayMode: "swarm" });
    expect(plan.kv).toBeUndefined();
    expect(plan.swarm).toEqual({ defaultAddrPool: "198.18.128.0/17", defaultAddrPoolMaskLength: 24, manager: "host1" });
    for (const h of plan.hosts) {
      expect(h.daemon.args.join(" ")).not.toContain("cluster");
      expect(h.daemon.clusterStore).toBeUndefined();
      expect(h.dockerVersion).toBe("27.5");
    }
    expect(plan.networks[0]).toMatchObject({ name: "ov_net1", attachable: true });
    // No KV: the external target is the underlay gateway.
    expect(plan.verification.externalTarget).toBe("198.18.0.1");
  });

  it("swarm mode leaves the upper half of each overlay to swarm (lb endpoints) and plans containers below it", () => {
    const hosts = [1, 2, 3, 4, 5].map((i) => ({ name: `h${i}`, address: `198.18.0.${10 + i}` }));
    const workloads = Array.from({ length: 10 }, (_, i) => ({ name: `c${i}`, host: `h${(i % 5) + 1}`, networks: ["ov_net1"] }));
    const plan = buildPlan({
      overlayMode: "swarm",
      hosts,
      networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" }],
      workloads,
    });
    expect(plan.networks[0]).toMatchObject({ ipRange: "198.18.100.128/25" });
    const ips = plan.workloads.map((w) => w.attachments[0]!.ipv4);
    expect(ips[0]).toBe("198.18.100.2");
    for (const ip of ips) expect(Number(ip.split(".")[3])).toBeLessThan(128);
    // kv mode has no such range: the KV store's IPAM hands out the static addresses as planned.
    expect(buildPlan({}).networks[0]).not.toHaveProperty("ipRange");
  });

  it("etcd in kv mode points the daemons at etcd's v2 endpoint", () => {
    const plan = buildPlan({ hostKind: "netns", kv: { kind: "etcd" } });
    expect(plan.hosts[0]!.daemon.args).toContain("--cluster-store=etcd://198.18.0.2:2379");
    expect(plan.kv?.provision).toBe("netns");
  });

  it("zookeeper runs on every host kind, and the daemons reach it as zk:// (Docker's name for the backend)", () => {
    for (const hostKind of ["netns", "dind", "ssh"] as const) {
      const ssh = hostKind === "ssh" ? { ssh: { user: "lab", privateKeySecret: "sshKey" } } : {};
      const plan = buildPlan({
        hostKind,
        kv: { kind: "zookeeper" },
        hosts: [
          { name: "host1", address: "198.18.0.11", ...ssh },
          { name: "host2", address: "198.18.0.12", ...ssh },
        ],
      });
      const at = hostKind === "ssh" ? "198.18.0.11" : "198.18.0.2";
      expect(plan.kv).toMatchObject({ kind: "zookeeper", port: 2181, url: `zk://${at}:2181` });
      expect(plan.hosts[0]!.daemon.args).toContain(`--cluster-store=zk://${at}:2181`);
    }
  });

  it("daemonPlan is the single source of flags", () => {
    const d = daemonPlan({
      overlayMode: "kv",
      bip: "198.19.3.1/24",
      addressPool: { base: "198.19.128.0/17", size: 24 },
      clusterStore: "zk://198.18.0.2:2181",
      advertiseInterface: "ens3",
      execRoot: "/var/run/docker",
      pidFile: "/var/run/docker.pid",
    });
    expect(d.clusterAdvertise).toBe("ens3:2376");
    expect(d.args).toContain("--cluster-store=zk://198.18.0.2:2181");
  });
});

describe("host kinds", () => {
  it("netns hosts get their own namespace, socket, data-root and exec-root", () => {
    const plan = buildPlan({ hostKind: "netns", name: "t9" });
    const h = plan.hosts[1]!;
    expect(h.netns).toEqual({
      namespace: "t9-host2",
      stateDir: "/var/lib/dnlab/t9/host2",
      dataRoot: "/var/lib/dnlab/t9/host2/data",
      execRoot: "/run/dnlab/t9/host2.exec",
      pidFile: "/run/dnlab/t9/host2.pid",
      socket: "/run/dnlab/t9/host2.sock",
    });
    expect(h.endpoint).toBe("unix:///run/dnlab/t9/host2.sock");
    expect(h.daemon.execRoot).toBe("/run/dnlab/t9/host2.exec");
    expect(h.daemon.pidFile).toBe("/run/dnlab/t9/host2.pid");
    expect(plan.netns).toMatchObject({ switchNamespace: "t9-sw", kvNamespace: "t9-kv" });
  });

  it("ssh hosts run the KV on the first host, as in the article, and reach Docker over ssh", () => {
    const plan = buildPlan({
      hostKind: "ssh",
      hosts: [
        { name: "h1", address: "198.18.0.11", ssh: { user: "lab", port: 2222, privateKeySecret: "sshKey" } },
        { name: "h2", address: "198.18.0.12", ssh: { user: "lab", privateKeySecret: "sshKey" } },
      ],
      workloads: [],
    });
    expect(plan.kv).toMatchObject({ address: "198.18.0.11", provision: "host-container", runsOn: "h1" });
    expect(plan.hosts.map((h) => h.endpoint)).toEqual(["ssh://lab@198.18.0.11:2222", "ssh://lab@198.18.0.12:22"]);
    expect(plan.hosts[0]!.ssh).toEqual({ user: "lab", port: 2222, privateKeySecret: "sshKey" });
  });

  it("an 802.1q macvlan uses the VLAN sub-interface as parent", () => {
    const plan = buildPlan({ networks: [{ name: "mv10", driver: "macvlan", subnet: "198.18.10.0/24", vlan: 10 }], workloads: [] });
    expect(plan.networks[0]).toMatchObject({ parent: "eth0.10", vlan: 10 });
  });
});

describe("scaling the plan", () => {
  it("partitions macvlan ranges for many hosts without overlap", () => {
    const hosts = Array.from({ length: 8 }, (_, i) => ({ name: `h${i + 1}`, address: `198.18.0.${11 + i}` }));
    const plan = buildPlan({ hosts, workloads: [] });
    const mv = plan.networks.find((n) => n.driver === "macvlan");
    if (mv?.driver !== "macvlan") throw new Error("no macvlan");
    const ranges = mv.ranges.map((r) => parseCidr(r.ipRange)!);
    expect(ranges).toHaveLength(8);
    for (let i = 0; i < ranges.length; i++)
      for (let j = i + 1; j < ranges.length; j++) expect(overlaps(ranges[i]!, ranges[j]!)).toBe(false);
    expect(plan.hosts.map((h) => h.daemon.bip)).toEqual(hosts.map((_, i) => `198.19.${i}.1/24`));
  });

  it("split makes equal power-of-two blocks", () => {
    expect(split(parseCidr("198.18.0.128/25")!, 3).map(formatCidr)).toEqual([
      "198.18.0.128/27",
      "198.18.0.160/27",
      "198.18.0.192/27",
      "198.18.0.224/27",
    ]);
  });
});
