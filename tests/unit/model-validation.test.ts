// One test per validation rule: each asserts the key, the value and the fix are named.
import { describe, expect, it } from "vitest";
import {
  BRIDGE_KEYS,
  buildPlan,
  CONFIG_KEYS,
  editDistance,
  HOST_KEYS,
  IMAGES_KEYS,
  KV_KEYS,
  type LabConfigInput,
  type LabConfigError,
  NETNS_KEYS,
  NETWORK_KEYS,
  nearest,
  readsKvRegistrations,
  SSH_KEYS,
  SWARM_KEYS,
  UNDERLAY_KEYS,
  VERIFICATION_KEYS,
  WORKLOAD_KEYS,
} from "../../src/model/index.js";
import { configProblems } from "./config-problems.js";

/** Exactly one problem line for `key`, containing every fragment. */
function expectProblem(config: LabConfigInput | unknown, key: string, ...fragments: string[]): void {
  const lines = configProblems(config).filter((l) => l.startsWith(`- ${key} = `));
  expect(lines, `no problem for ${key} in:\n${configProblems(config).join("\n")}`).toHaveLength(1);
  for (const f of fragments) expect(lines[0]).toContain(f);
  expect(lines[0]).toContain("Fix: ");
}

const twoSsh = (extra: object = {}) => ({
  hostKind: "ssh",
  hosts: [
    { name: "host1", address: "198.18.0.11", ssh: { user: "root", privateKeySecret: "sshKey" } },
    { name: "host2", address: "198.18.0.12", ssh: { user: "root", privateKeySecret: "sshKey" } },
  ],
  ...extra,
});

describe("validation", () => {
  it("accepts the default (dev) configuration", () => {
    expect(() => buildPlan({})).not.toThrow();
  });

  it("swarm mode refuses an overlay too small for swarm's own range and the static addresses", () => {
    expectProblem(
      { overlayMode: "swarm", networks: [{ name: "ov", driver: "overlay", subnet: "198.18.100.0/29" }], workloads: [] },
      "lab:networks[0].subnet",
      "too small for swarm mode",
    );
    const full = {
      overlayMode: "swarm",
      networks: [{ name: "ov", driver: "overlay", subnet: "198.18.100.0/28" }],
      workloads: Array.from({ length: 7 }, (_, i) => ({ name: `c${i}`, host: "host1", networks: ["ov"] })),
    };
    expectProblem(full, "lab:workloads[6].networks", "static half 198.18.100.0/29", "swarm allocates from 198.18.100.8/29");
  });

  it("reports every problem in one error, before anything else", () => {
    const lines = configProblems({ hostKind: "vm", overlayMode: "mesh", kv: { kind: "redis" } });
    expect(lines).toHaveLength(3);
    expect(lines.join("\n")).toMatch(/lab:hostKind.*lab:overlayMode.*lab:kv\.kind/s);
  });

  it("rejects a malformed CIDR", () => {
    expectProblem(
      { networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/33" }], workloads: [] },
      "lab:networks[0].subnet",
      '"198.18.100.0/33"',
      "not a CIDR",
      "a.b.c.d/n",
    );
  });

  it("rejects a CIDR with host bits set", () => {
    expectProblem({ underlay: { subnet: "198.18.0.5/24" } }, "lab:underlay.subnet", '"198.18.0.5/24"', "host bits");
  });

  it("rejects a malformed IP", () => {
    expectProblem(
      {
        hosts: [
          { name: "host1", address: "198.18.0.300" },
          { name: "host2", address: "198.18.0.12" },
        ],
      },
      "lab:hosts[0].address",
      '"198.18.0.300"',
      "not an IPv4 address",
    );
  });

  it("keeps every address inside 198.18.0.0/15", () => {
    expectProblem(
      {
        hosts: [
          { name: "host1", address: "10.0.0.11" },
          { name: "host2", address: "198.18.0.12" },
        ],
      },
      "lab:hosts[0].address",
      '"10.0.0.11"',
      "outside the lab range 198.18.0.0/15",
    );
  });

  it("rejects an overlay overlapping the underlay", () => {
    expectProblem(
      { networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.0.0/25" }], workloads: [] },
      "lab:networks[0].subnet",
      "overlaps lab:underlay.subnet (198.18.0.0/24)",
    );
  });

  it("rejects two overlays that overlap", () => {
    expectProblem(
      {
        networks: [
          { name: "a", driver: "overlay", subnet: "198.18.100.0/24" },
          { name: "b", driver: "overlay", subnet: "198.18.100.128/25" },
        ],
        workloads: [],
      },
      "lab:networks[1].subnet",
      "overlaps lab:networks[0].subnet (198.18.100.0/24)",
    );
  });

  it("rejects an overlay overlapping the bridge address pool", () => {
    expectProblem(
      { networks: [{ name: "ov", driver: "overlay", subnet: "198.19.200.0/24" }], workloads: [] },
      "lab:networks[0].subnet",
      "overlaps lab:bridge.addressPool",
    );
  });

  it("rejects a macvlan subnet that overlaps the underlay without being it", () => {
    expectProblem(
      { networks: [{ name: "mv", driver: "macvlan", subnet: "198.18.0.0/25", ipRangePool: "198.18.0.64/26" }], workloads: [] },
      "lab:networks[0].subnet",
      "overlaps lab:underlay.subnet",
    );
  });

  it("accepts a macvlan network on exactly the underlay subnet (same L2 segment)", () => {
    const plan = buildPlan({ networks: [{ name: "mv", driver: "macvlan", subnet: "198.18.0.0/24" }], workloads: [] });
    expect(plan.networks[0]).toMatchObject({ driver: "macvlan", subnet: "198.18.0.0/24", parent: "eth0" });
  });

  it("rejects duplicate host names (overlay gossip needs unique hostnames)", () => {
    expectProblem(
      {
        hosts: [
          { name: "host1", address: "198.18.0.11" },
          { name: "host1", address: "198.18.0.12" },
        ],
        workloads: [],
      },
      "lab:hosts[1].name",
      '"host1"',
      "duplicate host name",
      "unique hostname",
    );
  });

  it("rejects duplicate host addresses", () => {
    expectProblem(
      {
        hosts: [
          { name: "host1", address: "198.18.0.11" },
          { name: "host2", address: "198.18.0.11" },
        ],
        workloads: [],
      },
      "lab:hosts[1].address",
      "already used by lab:hosts[0].address",
    );
  });

  it("rejects a host outside the underlay subnet", () => {
    expectProblem(
      {
        hosts: [
          { name: "host1", address: "198.18.5.11" },
          { name: "host2", address: "198.18.0.12" },
        ],
      },
      "lab:hosts[0].address",
      "not a usable address of the underlay 198.18.0.0/24",
    );
  });

  it("rejects duplicate container names", () => {
    expectProblem(
      {
        workloads: [
          { name: "test1", host: "host1", networks: ["ov_net1"] },
          { name: "test1", host: "host2", networks: ["ov_net1"] },
        ],
      },
      "lab:workloads[1].name",
      '"test1"',
      "duplicate container name",
    );
  });

  it("rejects a workload on an unknown host", () => {
    expectProblem(
      { workloads: [{ name: "test1", host: "host9", networks: ["ov_net1"] }] },
      "lab:workloads[0].host",
      '"host9"',
      "unknown host",
      "use one of host1, host2",
    );
  });

  it("rejects a workload on an unknown network", () => {
    expectProblem(
      { workloads: [{ name: "test1", host: "host1", networks: ["ov_net9"] }] },
      "lab:workloads[0].networks[0]",
      '"ov_net9"',
      "unknown network",
      "use one of ov_net1, mv_net1",
    );
  });

  it("rejects a macvlan range outside its subnet", () => {
    expectProblem(
      {
        networks: [
          { name: "mv", driver: "macvlan", subnet: "198.18.0.0/24", ipRanges: { host1: "198.18.1.0/28", host2: "198.18.0.144/28" } },
        ],
        workloads: [],
      },
      "lab:networks[0].ipRanges.host1",
      '"198.18.1.0/28"',
      "outside the macvlan subnet 198.18.0.0/24",
    );
  });

  it("rejects macvlan ranges that overlap between hosts", () => {
    expectProblem(
      {
        networks: [
          { name: "mv", driver: "macvlan", subnet: "198.18.0.0/24", ipRanges: { host1: "198.18.0.128/27", host2: "198.18.0.144/28" } },
        ],
        workloads: [],
      },
      "lab:networks[0].ipRanges.host2",
      "overlaps host1's range 198.18.0.128/27",
      "disjoint",
    );
  });

  it("rejects a macvlan range that contains a host's address", () => {
    expectProblem(
      {
        networks: [
          { name: "mv", driver: "macvlan", subnet: "198.18.0.0/24", ipRanges: { host1: "198.18.0.0/28", host2: "198.18.0.144/28" } },
        ],
        workloads: [],
      },
      "lab:networks[0].ipRanges.host1",
      "198.18.0.11, used by lab:hosts[0].address",
    );
  });

  it("rejects more containers than an overlay subnet holds", () => {
    const workloads = Array.from({ length: 6 }, (_, i) => ({ name: `c${i}`, host: i % 2 ? "host2" : "host1", networks: ["small"] }));
    const lines = configProblems({ networks: [{ name: "small", driver: "overlay", subnet: "198.18.100.0/29" }], workloads });
    // /29: 8 addresses - network - broadcast - gateway = 5 containers.
    expect(lines.filter((l) => l.includes("more containers than subnet 198.18.100.0/29 holds"))).toHaveLength(1);
    expect(lines[0]).toContain("lab:workloads[5].networks");
  });

  it("rejects more containers than a host's macvlan range holds", () => {
    const workloads = Array.from({ length: 5 }, (_, i) => ({ name: `m${i}`, host: "host1", networks: ["mv"] }));
    const lines = configProblems({
      networks: [{ name: "mv", driver: "macvlan", subnet: "198.18.0.0/24", ipRangePool: "198.18.0.128/29" }],
      workloads,
    });
    expect(lines.join("\n")).toContain("more containers than host1's range 198.18.0.128/30 holds");
  });

  it("rejects an unknown KV kind", () => {
    expectProblem({ kv: { kind: "redis" } }, "lab:kv.kind", '"redis"', "unknown KV store kind", "consul, etcd, zookeeper");
  });

  it("rejects an unknown host kind", () => {
    expectProblem({ hostKind: "vm" }, "lab:hostKind", '"vm"', "unknown host kind", "dind, netns, ssh");
  });

  it("rejects an unknown overlay mode", () => {
    expectProblem({ overlayMode: "mesh" }, "lab:overlayMode", '"mesh"', "unknown overlay mode", "kv, swarm");
  });

  it("rejects an unknown network driver", () => {
    expectProblem(
      { networks: [{ name: "n", driver: "ipvlan", subnet: "198.18.100.0/24" }], workloads: [] },
      "lab:networks[0].driver",
      '"ipvlan"',
      "overlay, macvlan",
    );
  });

  it("refuses kv mode on Docker 23+ and advises swarm", () => {
    expectProblem(
      {
        hosts: [
          { name: "host1", address: "198.18.0.11", dockerVersion: "24.0.7" },
          { name: "host2", address: "198.18.0.12" },
        ],
      },
      "lab:hosts[0].dockerVersion",
      '"24.0.7"',
      "Docker 23.0 removed",
      "lab:overlayMode to swarm",
    );
  });

  it("accepts Docker 23+ in swarm mode", () => {
    const plan = buildPlan({
      overlayMode: "swarm",
      hosts: [
        { name: "host1", address: "198.18.0.11", dockerVersion: "27.5.1" },
        { name: "host2", address: "198.18.0.12" },
      ],
    });
    expect(plan.hosts[0]!.daemon.clusterStore).toBeUndefined();
  });

  it("requires the ssh login user for ssh hosts", () => {
    expectProblem(
      {
        hostKind: "ssh",
        hosts: [
          { name: "host1", address: "198.18.0.11", ssh: { privateKeySecret: "k" } },
          { name: "host2", address: "198.18.0.12", ssh: { user: "root", privateKeySecret: "k" } },
        ],
      },
      "lab:hosts[0].ssh.user",
      "login user",
    );
  });

  it("requires the ssh private key (as a secret) for ssh hosts", () => {
    expectProblem(
      {
        hostKind: "ssh",
        hosts: [
          { name: "host1", address: "198.18.0.11", ssh: { user: "root" } },
          { name: "host2", address: "198.18.0.12", ssh: { user: "root", privateKeySecret: "k" } },
        ],
      },
      "lab:hosts[0].ssh.privateKeySecret",
      "private key",
      "pulumi config set --secret",
    );
  });

  it("rejects ssh settings on a non-ssh host", () => {
    expectProblem(
      {
        hosts: [
          { name: "host1", address: "198.18.0.11", ssh: { user: "root" } },
          { name: "host2", address: "198.18.0.12" },
        ],
      },
      "lab:hosts[0].ssh",
      "ssh settings on a dind host",
    );
  });

  it("rejects a KV address that collides with a host", () => {
    expectProblem({ kv: { address: "198.18.0.11" } }, "lab:hosts[0].address", "already used by lab:kv.address");
  });

  it("rejects a non-attachable overlay in swarm mode", () => {
    expectProblem(
      { overlayMode: "swarm", networks: [{ name: "ov", driver: "overlay", subnet: "198.18.100.0/24", attachable: false }], workloads: [] },
      "lab:networks[0].attachable",
      "attachable",
    );
  });

  it("rejects macvlan-only settings on an overlay", () => {
    expectProblem(
      { networks: [{ name: "ov", driver: "overlay", subnet: "198.18.100.0/24", parent: "eth1" }], workloads: [] },
      "lab:networks[0].parent",
      "only macvlan networks",
    );
  });

  it("rejects a VLAN id out of range", () => {
    expectProblem(
      { networks: [{ name: "mv", driver: "macvlan", subnet: "198.18.4.0/24", vlan: 5000 }], workloads: [] },
      "lab:networks[0].vlan",
      "5000",
      "1 to 4094",
    );
  });

  it("lab:kv.publishUi: true or false; only a dind store is published, and the stack reads Consul back only where it can", () => {
    expectProblem({ kv: { publishUi: "yes" } }, "lab:kv.publishUi", '"yes"', "must be true or false");
    expect(buildPlan({}).kv).toMatchObject({ provision: "local-container", published: true });
    expect(readsKvRegistrations(buildPlan({}))).toBe(true);
    const hidden = buildPlan({ kv: { publishUi: false } });
    expect(hidden.kv?.published).toBe(false);
    expect(readsKvRegistrations(hidden)).toBe(false);
    // Other kinds run the store on lab addresses: nothing is published, and the key is checked but unused.
    expect(buildPlan({ hostKind: "netns", kv: { publishUi: true } }).kv?.published).toBe(false);
    expect(readsKvRegistrations(buildPlan(twoSsh({ kv: { publishUi: false } })))).toBe(true);
  });

  it("rejects an ssh lab whose kv.address is not the first host", () => {
    expectProblem(twoSsh({ kv: { address: "198.18.0.2" } }), "lab:kv.address", "first host");
  });

  it("rejects a non-busybox image on netns labs (no registry there)", () => {
    expectProblem(
      { hostKind: "netns", workloads: [{ name: "web", host: "host1", networks: ["ov_net1"], image: "nginx:1.27" }] },
      "lab:workloads[0].image",
      '"nginx:1.27"',
      "no registry",
      "busybox",
    );
  });

  it("rejects a bad lab name (it prefixes containers and namespaces)", () => {
    expectProblem({ name: "My Lab" }, "lab:name", '"My Lab"', "invalid name");
  });

  it("reports the problems of every stage in one error, in stage order", () => {
    let error: LabConfigError | undefined;
    try {
      buildPlan({
        name: "Bad",
        underlay: { interface: "bad iface!" },
        kv: { port: 0 },
        bridge: { poolSize: 99 },
        hosts: [
          { name: "host1", address: "198.18.0.11" },
          { name: "host1", address: "198.18.0.12" },
        ],
        netns: { rot: "/x" },
        networks: [
          { name: "ov", driver: "overlay", subnet: "198.18.100.0/24", mtu: 1 },
          { name: "mv", driver: "macvlan", subnet: "198.18.0.0/25" },
        ],
        workloads: [{ name: "w", host: "nohost", networks: ["ov"] }],
        verification: { timeoutSeconds: 1 },
      });
    } catch (e) {
      error = e as LabConfigError;
    }
    expect(error?.problems.map((x) => x.key)).toEqual([
      "lab:name",
      "lab:underlay.interface",
      "lab:kv.port",
      "lab:bridge.poolSize",
      "lab:netns.rot",
      "lab:hosts[1].name",
      "lab:networks[0].mtu",
      "lab:networks[1].subnet",
      "lab:workloads[0].host",
      "lab:verification.timeoutSeconds",
    ]);
  });

  it("rejects a non-object config", () => {
    expectProblem(["not", "a", "map"], "lab:(root)", "must be an object");
  });
});

describe("unknown keys (a typo must not bring up the default lab in silence)", () => {
  const host1 = { name: "host1", address: "198.18.0.11" };
  const host2 = { name: "host2", address: "198.18.0.12" };
  const sshLogin = { user: "root", privateKeySecret: "sshKey" };
  // One row per object of LabConfigInput: a valid config with `extra` merged into that object, a typo
  // with the key it should suggest, and the object's key list (named in the fix when nothing is close).
  const levels: { at: string; wrap: (extra: object) => object; typo: string; meant: string; keys: readonly string[] }[] = [
    { at: "lab:", wrap: (x) => x, typo: "hostz", meant: "hosts", keys: CONFIG_KEYS },
    { at: "lab:hosts[1].", wrap: (x) => ({ hosts: [host1, { ...host2, ...x }] }), typo: "adress", meant: "address", keys: HOST_KEYS },
    {
      at: "lab:hosts[0].ssh.",
      wrap: (x) => ({
        hostKind: "ssh",
        hosts: [
          { ...host1, ssh: { ...sshLogin, ...x } },
          { ...host2, ssh: sshLogin },
        ],
      }),
      typo: "usr",
      meant: "user",
      keys: SSH_KEYS,
    },
    {
      at: "lab:networks[0].",
      wrap: (x) => ({ networks: [{ name: "ov", driver: "overlay", subnet: "198.18.100.0/24", ...x }], workloads: [] }),
      typo: "gatway",
      meant: "gateway",
      keys: NETWORK_KEYS,
    },
    {
      at: "lab:workloads[0].",
      wrap: (x) => ({ workloads: [{ name: "test1", host: "host1", networks: ["ov_net1"], ...x }] }),
      typo: "alias",
      meant: "aliases",
      keys: WORKLOAD_KEYS,
    },
    { at: "lab:kv.", wrap: (x) => ({ kv: { kind: "consul", ...x } }), typo: "extrenal", meant: "external", keys: KV_KEYS },
    {
      at: "lab:underlay.",
      wrap: (x) => ({ underlay: { subnet: "198.18.0.0/24", ...x } }),
      typo: "interfce",
      meant: "interface",
      keys: UNDERLAY_KEYS,
    },
    { at: "lab:bridge.", wrap: (x) => ({ bridge: { ...x } }), typo: "poolsize", meant: "poolSize", keys: BRIDGE_KEYS },
    {
      at: "lab:swarm.",
      wrap: (x) => ({ overlayMode: "swarm", swarm: { ...x } }),
      typo: "defaultAddressPool",
      meant: "defaultAddrPool",
      keys: SWARM_KEYS,
    },
    {
      at: "lab:verification.",
      wrap: (x) => ({ verification: { enabled: true, ...x } }),
      typo: "settleSecond",
      meant: "settleSeconds",
      keys: VERIFICATION_KEYS,
    },
    { at: "lab:netns.", wrap: (x) => ({ hostKind: "netns", netns: { ...x } }), typo: "stateRot", meant: "stateRoot", keys: NETNS_KEYS },
    { at: "lab:images.", wrap: (x) => ({ images: { ...x } }), typo: "dindkv", meant: "dindKv", keys: IMAGES_KEYS },
  ];

  it.each(levels)("$at: the base config is valid", ({ wrap }) => {
    expect(() => buildPlan(wrap({}))).not.toThrow();
  });

  it.each(levels)("$typo under $at: refused, suggesting $meant", ({ at, wrap, typo, meant }) => {
    const lines = configProblems(wrap({ [typo]: 7 }));
    expect(lines).toEqual([
      `- ${at}${typo} = 7: unknown key (did you mean ${at}${meant}?). Fix: rename it to ${at}${meant}, or remove it.`,
    ]);
  });

  it.each(levels)("colour under $at: refused, nothing close, so the fix lists the valid keys", ({ at, wrap, keys }) => {
    const lines = configProblems(wrap({ colour: "red" }));
    const where = at === "lab:" ? "lab:*" : at.slice(0, -1);
    expect(lines).toEqual([`- ${at}colour = "red": unknown key. Fix: remove it; the valid keys of ${where} are ${keys.join(", ")}.`]);
    expect(lines[0]).not.toContain("did you mean");
  });

  it("names the top-level typo of the brief exactly", () => {
    expect(configProblems({ hostz: [] })).toEqual([
      "- lab:hostz = []: unknown key (did you mean lab:hosts?). Fix: rename it to lab:hosts, or remove it.",
    ]);
  });

  it("reports unknown keys along with every other problem, in one error", () => {
    const lines = configProblems({ hostKind: "vm", netwroks: [], hosts: [{ ...host1, adress: "x" }, host2] });
    expect(lines).toHaveLength(3);
    expect(lines.join("\n")).toMatch(
      /lab:netwroks .*did you mean lab:networks\?.*lab:hostKind.*lab:hosts\[0\]\.adress .*did you mean lab:hosts\[0\]\.address\?/s,
    );
  });

  it("reports typos inside ssh settings on a non-ssh host too, so fixing hostKind uncovers nothing new", () => {
    const lines = configProblems({ hosts: [{ ...host1, ssh: { usr: "root" } }, host2] });
    expect(lines).toHaveLength(2);
    expectProblem({ hosts: [{ ...host1, ssh: { usr: "root" } }, host2] }, "lab:hosts[0].ssh.usr", "did you mean lab:hosts[0].ssh.user?");
  });

  it("accepts host names as the keys of a macvlan network's ipRanges (a map, not a schema object)", () => {
    const plan = buildPlan({
      networks: [
        { name: "mv", driver: "macvlan", subnet: "198.18.0.0/24", ipRanges: { host1: "198.18.0.128/27", host2: "198.18.0.160/27" } },
      ],
      workloads: [],
    });
    expect(plan.networks[0]).toMatchObject({
      ranges: [
        { host: "host1", ipRange: "198.18.0.128/27" },
        { host: "host2", ipRange: "198.18.0.160/27" },
      ],
    });
    // A wrong host name there is an unknown host, not an unknown key.
    expectProblem(
      {
        networks: [
          {
            name: "mv",
            driver: "macvlan",
            subnet: "198.18.0.0/24",
            ipRanges: { host1: "198.18.0.128/27", host2: "198.18.0.160/27", hots3: "198.18.0.192/27" },
          },
        ],
        workloads: [],
      },
      "lab:networks[0].ipRanges.hots3",
      "no such host",
    );
  });

  it("suggests only keys close enough to be the likely intent", () => {
    expect(editDistance("hostz", "hosts")).toBe(1);
    expect(editDistance("subent", "subnet")).toBe(2);
    expect(nearest("hostkind", CONFIG_KEYS)).toBe("hostKind");
    expect(nearest("defaultAddressPool", SWARM_KEYS)).toBe("defaultAddrPool");
    expect(nearest("x", CONFIG_KEYS)).toBeUndefined(); // "kv" is 2 edits away, but nothing of "x" survives
    expect(nearest("timeout", VERIFICATION_KEYS)).toBeUndefined();
  });
});
