// Config -> validated, normalized LabPlan. Every problem is collected and reported in one error
// before anything else runs, so bad config never reaches the Pulumi engine or a script.
import { planChecks } from "./checks.js";
import {
  BRIDGE_KEYS,
  type BridgeInput,
  CONFIG_KEYS,
  HOST_KEYS,
  type HostInput,
  KV_KEYS,
  type KvInput,
  type LabConfigInput,
  NETNS_KEYS,
  type NetnsInput,
  NETWORK_KEYS,
  type NetworkInput,
  SSH_KEYS,
  type SshInput,
  SWARM_KEYS,
  type SwarmInput,
  UNDERLAY_KEYS,
  type UnderlayInput,
  VERIFICATION_KEYS,
  type VerificationInput,
  WORKLOAD_KEYS,
  type WorkloadInput,
} from "./config.js";
import { daemonPlan, supportsClusterStore } from "./daemon.js";
import { DEFAULT_DOCKER_VERSION, DEFAULTS, DIND_API_PORT_BASE, IMAGES, KV_PORTS } from "./defaults.js";
import { nearest, Problems } from "./errors.js";
import {
  type Cidr,
  contains,
  containsCidr,
  formatCidr,
  formatIp,
  LAB_RANGE,
  lastAddress,
  overlaps,
  parseCidr,
  parseIp,
  size,
  split,
} from "./ip.js";
import { netnsHostPaths, netnsLabPaths } from "./netns.js";
import { isBusyboxImage } from "./netnsCommands.js";
import {
  HOST_KINDS,
  type HostKind,
  type HostPlan,
  KV_KINDS,
  type KvKind,
  type KvPlan,
  type LabPlan,
  type MacvlanNetworkPlan,
  NETWORK_DRIVERS,
  type NetworkPlan,
  OVERLAY_MODES,
  type OverlayMode,
  type OverlayNetworkPlan,
  type WorkloadPlan,
} from "./types.js";

const K = (path: string): string => `lab:${path}`;
const NAME_RE = /^[a-z][a-z0-9-]{0,15}$/;
const HOST_RE = /^[a-z][a-z0-9-]{0,31}$/;
const NET_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;
const IFACE_RE = /^[A-Za-z][A-Za-z0-9_-]{0,10}$/;
const CONTAINER_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const LAB_RANGE_TEXT = formatCidr(LAB_RANGE);

function oneOf<T extends string>(
  p: Problems,
  key: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
  what: string,
): T {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  p.add(K(key), value, `unknown ${what}`, `use one of ${allowed.join(", ")}`);
  return fallback;
}

/** A lab address: a valid IPv4 inside 198.18.0.0/15 (lab traffic must never leave that range). */
function labIp(p: Problems, key: string, value: unknown): number | undefined {
  if (typeof value !== "string" || parseIp(value) === undefined) {
    p.add(K(key), value, "not an IPv4 address", "write it as a.b.c.d, e.g. 198.18.0.11");
    return undefined;
  }
  const ip = parseIp(value)!;
  if (!contains(LAB_RANGE, ip)) {
    p.add(K(key), value, `outside the lab range ${LAB_RANGE_TEXT}`, `use an address in ${LAB_RANGE_TEXT}`);
    return undefined;
  }
  return ip;
}

function labCidr(p: Problems, key: string, value: unknown): Cidr | undefined {
  const c = typeof value === "string" ? parseCidr(value) : undefined;
  if (c === undefined) {
    p.add(K(key), value, "not a CIDR block (or host bits are set)", "write it as a.b.c.d/n with a network address, e.g. 198.18.100.0/24");
    return undefined;
  }
  if (!containsCidr(LAB_RANGE, c)) {
    p.add(K(key), value, `outside the lab range ${LAB_RANGE_TEXT}`, `choose a block inside ${LAB_RANGE_TEXT}`);
    return undefined;
  }
  return c;
}

function int(p: Problems, key: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) return value;
  p.add(K(key), value, `must be an integer from ${min} to ${max}`, `set a whole number between ${min} and ${max}`);
  return fallback;
}

function str(p: Problems, key: string, value: unknown, re: RegExp, fallback: string, rule: string): string {
  if (value === undefined) return fallback;
  if (typeof value === "string" && re.test(value)) return value;
  p.add(K(key), value, `invalid name (${rule})`, `rename it to match ${re.source}`);
  return fallback;
}

function list<T>(p: Problems, key: string, value: unknown, fallback: readonly unknown[]): T[] {
  if (value === undefined) return structuredClone([...fallback]) as T[];
  if (Array.isArray(value)) return value as T[];
  p.add(K(key), value, "must be a list", "write it as a YAML/JSON list");
  return [];
}

function obj<T extends object>(p: Problems, key: string, value: unknown): T {
  if (value === undefined) return {} as T;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as T;
  p.add(K(key), value, "must be an object", "write it as a YAML/JSON mapping");
  return {} as T;
}

const ROOT = "(root)";

/** An object of the schema: like obj, and every key outside `keys` is refused (buildPlan would ignore it). */
function section<T extends object>(p: Problems, key: string, value: unknown, keys: readonly (keyof T & string)[]): T {
  const o = obj<T>(p, key, value);
  unknownKeys(p, key, o, keys);
  return o;
}

function unknownKeys(p: Problems, key: string, o: object, keys: readonly string[]): void {
  const at = (k: string): string => K(key === ROOT ? k : `${key}.${k}`);
  for (const [k, v] of Object.entries(o)) {
    if (keys.includes(k)) continue;
    const near = nearest(k, keys);
    if (near !== undefined) p.add(at(k), v, `unknown key (did you mean ${at(near)}?)`, `rename it to ${at(near)}, or remove it`);
    else p.add(at(k), v, "unknown key", `remove it; the valid keys ${key === ROOT ? "of lab:* are" : `of ${K(key)} are`} ${keys.join(", ")}`);
  }
}

function usableHosts(c: Cidr): number {
  return Math.max(0, size(c) - 2);
}

interface NamedBlock {
  key: string;
  text: string;
  cidr: Cidr;
  /** Blocks allowed to equal this one exactly (macvlan sharing the underlay's L2 segment). */
  sharesWith?: string;
}

export function buildPlan(raw: unknown): LabPlan {
  const p = new Problems();
  const input = section<LabConfigInput>(p, ROOT, raw, CONFIG_KEYS);

  const name = str(p, "name", input.name, NAME_RE, DEFAULTS.name, "lowercase letters, digits, '-', at most 16");
  const hostKind: HostKind = oneOf(p, "hostKind", input.hostKind, HOST_KINDS, DEFAULTS.hostKind, "host kind");
  const overlayMode: OverlayMode = oneOf(p, "overlayMode", input.overlayMode, OVERLAY_MODES, DEFAULTS.overlayMode, "overlay mode");

  // Underlay
  const u = section<UnderlayInput>(p, "underlay", input.underlay, UNDERLAY_KEYS);
  const underlay = labCidr(p, "underlay.subnet", u.subnet ?? DEFAULTS.underlay.subnet);
  const underlayIface = str(p, "underlay.interface", u.interface, IFACE_RE, DEFAULTS.underlay.interface, "an interface name");
  let gatewayIp: number | undefined;
  if (underlay) {
    gatewayIp = u.gateway === undefined ? underlay.base + 1 : labIp(p, "underlay.gateway", u.gateway);
    if (gatewayIp !== undefined && !insideUsable(underlay, gatewayIp)) {
      p.add(K("underlay.gateway"), u.gateway, `not a usable address of ${formatCidr(underlay)}`, "pick an address inside the underlay subnet");
    }
  }
  const reserved = new Map<number, string>(); // underlay addresses already taken -> key
  if (gatewayIp !== undefined) reserved.set(gatewayIp, K("underlay.gateway"));

  // KV store (kv mode only; swarm keeps its state in raft)
  const kvIn = section<KvInput>(p, "kv", input.kv, KV_KEYS);
  // Debian's docker.io 20.10 (the netns hosts' dockerd) is built without the consul cluster-store
  // backend ("avoid dependencies on consul"), so netns labs default to etcd.
  const kvKind: KvKind = oneOf(p, "kv.kind", kvIn.kind, KV_KINDS, hostKind === "netns" ? "etcd" : DEFAULTS.kv.kind, "KV store kind");
  let kv: KvPlan | undefined;
  const external = kvIn.external === true;
  if (kvIn.external !== undefined && typeof kvIn.external !== "boolean") {
    p.add(K("kv.external"), kvIn.external, "must be true or false", "set kv.external: true for a KV store the lab does not run");
  }
  if (overlayMode === "kv" && underlay) {
    // ssh hosts: the KV runs on the first host with host networking, as in the article, unless external.
    const firstHost = Array.isArray(input.hosts) ? (input.hosts[0] as HostInput | undefined) : undefined;
    const onHost = hostKind === "ssh" && !external;
    const addrText = onHost ? (kvIn.address ?? firstHost?.address) : kvIn.address;
    const addr = addrText === undefined ? underlay.base + 2 : labIp(p, "kv.address", addrText);
    if (onHost && kvIn.address !== undefined && kvIn.address !== firstHost?.address) {
      p.add(K("kv.address"), kvIn.address, "on ssh hosts the lab runs the KV store on the first host, at its address", "remove kv.address, or set kv.external: true for a KV store you run yourself");
    }
    if (external && kvIn.address === undefined) {
      p.add(K("kv.address"), undefined, "an external KV store needs its address", "set kv.address to the address the daemons reach it on");
    }
    if (hostKind === "netns" && kvKind === "zookeeper" && !external) {
      p.add(K("kv.kind"), kvKind, "netns labs run consul or etcd (zookeeper is not provisioned there)", "use kv.kind consul or etcd, or kv.external: true");
    }
    if (addr !== undefined) {
      if (!insideUsable(underlay, addr) && !external) {
        p.add(K("kv.address"), kvIn.address, `not a usable address of the underlay ${formatCidr(underlay)}`, "put the KV store on the underlay subnet");
      } else if (reserved.has(addr)) {
        p.add(K("kv.address"), formatIp(addr), `already used by ${reserved.get(addr)}`, "give the KV store its own address");
      } else if (!onHost) reserved.set(addr, K("kv.address"));
      const port = int(p, "kv.port", kvIn.port, 1, 65535, KV_PORTS[kvKind]);
      const provision: KvPlan["provision"] = external ? "external" : hostKind === "dind" ? "local-container" : hostKind === "netns" ? "netns" : "host-container";
      kv = {
        kind: kvKind,
        address: formatIp(addr),
        port,
        url: `${kvKind}://${formatIp(addr)}:${port}`,
        image: typeof kvIn.image === "string" ? kvIn.image : IMAGES[kvKind],
        nodeName: `${name}-kv`,
        provision,
        ...(onHost && typeof firstHost?.name === "string" ? { runsOn: firstHost.name } : {}),
      };
    }
  }

  // Bridge pools: keep docker0 and docker_gwbridge out of 172.17.0.0/16.
  const b = section<BridgeInput>(p, "bridge", input.bridge, BRIDGE_KEYS);
  const bipBase = labCidr(p, "bridge.bipBase", b.bipBase ?? DEFAULTS.bridge.bipBase);
  const addrPool = labCidr(p, "bridge.addressPool", b.addressPool ?? DEFAULTS.bridge.addressPool);
  const poolSize = int(p, "bridge.poolSize", b.poolSize, 16, 29, DEFAULTS.bridge.poolSize);
  if (addrPool && poolSize < addrPool.prefix) {
    p.add(K("bridge.poolSize"), poolSize, `smaller than the pool's own prefix /${addrPool.prefix}`, `use a size of at least ${addrPool.prefix}`);
  }

  // Swarm address pool
  const sw = section<SwarmInput>(p, "swarm", input.swarm, SWARM_KEYS);
  const swarmPool = overlayMode === "swarm" ? labCidr(p, "swarm.defaultAddrPool", sw.defaultAddrPool ?? DEFAULTS.swarm.defaultAddrPool) : undefined;
  const swarmMask = int(p, "swarm.maskLength", sw.maskLength, 16, 29, DEFAULTS.swarm.maskLength);

  // Hosts
  const hostsIn = list<HostInput>(p, "hosts", input.hosts, DEFAULTS.hosts);
  if (hostsIn.length === 0) p.add(K("hosts"), [], "no hosts", "list at least one host (two for cross-host networking)");
  const bipBlocks = bipBase ? split24(bipBase) : [];
  if (bipBase && hostsIn.length > bipBlocks.length) {
    p.add(K("bridge.bipBase"), formatCidr(bipBase), `holds ${bipBlocks.length} /24 bridge networks but there are ${hostsIn.length} hosts`, "use a larger block (one /24 per host)");
  }
  const hostNames = new Set<string>();
  const hosts: HostPlan[] = [];
  const ns = section<NetnsInput>(p, "netns", input.netns, NETNS_KEYS);
  const netnsLab = hostKind === "netns" ? netnsLabPaths(name, ns.root ?? DEFAULTS.netnsRoot) : undefined;
  hostsIn.forEach((hRaw, i) => {
    const key = `hosts[${i}]`;
    const h = section<HostInput>(p, key, hRaw, HOST_KEYS);
    const hname = str(p, `${key}.name`, h.name, HOST_RE, `host${i + 1}`, "a hostname: lowercase letters, digits, '-'");
    if (h.name === undefined) p.add(K(`${key}.name`), undefined, "every host needs a name", "add name: host" + (i + 1));
    else if (hostNames.has(hname)) {
      p.add(K(`${key}.name`), hname, "duplicate host name (overlay gossip needs a unique hostname per host)", "give every host a unique name");
    }
    hostNames.add(hname);
    let address = "0.0.0.0";
    const ip = labIp(p, `${key}.address`, h.address);
    if (ip !== undefined && underlay) {
      if (!insideUsable(underlay, ip)) {
        p.add(K(`${key}.address`), h.address, `not a usable address of the underlay ${formatCidr(underlay)}`, "put every host on the underlay subnet");
      } else if (reserved.has(ip)) {
        p.add(K(`${key}.address`), h.address, `already used by ${reserved.get(ip)}`, "give every host its own address");
      } else reserved.set(ip, K(`${key}.address`));
      address = formatIp(ip);
    }
    const defaultVersion = hostKind === "netns" ? "20.10" : DEFAULT_DOCKER_VERSION[overlayMode];
    const dockerVersion = typeof h.dockerVersion === "string" ? h.dockerVersion : defaultVersion;
    if (!/^\d+\.\d+(\.\d+)?$/.test(dockerVersion)) {
      p.add(K(`${key}.dockerVersion`), h.dockerVersion, "not a Docker version", "write it like 20.10 or 27.5.1");
    } else if (overlayMode === "kv" && !supportsClusterStore(dockerVersion)) {
      p.add(
        K(`${key}.dockerVersion`),
        dockerVersion,
        "kv overlay mode needs --cluster-store, which Docker 23.0 removed",
        "set lab:overlayMode to swarm (or use Docker 20.10 on this host)",
      );
    }
    if (hostKind === "netns" && h.dockerVersion !== undefined && dockerVersion !== "20.10") {
      p.add(K(`${key}.dockerVersion`), h.dockerVersion, "netns hosts run this machine's Debian docker.io 20.10", "remove dockerVersion for netns hosts");
    }
    const advertiseInterface = str(p, `${key}.advertiseInterface`, h.advertiseInterface, IFACE_RE, underlayIface, "an interface name");
    let ssh: HostPlan["ssh"];
    if (hostKind === "ssh") {
      const s = section<SshInput>(p, `${key}.ssh`, h.ssh, SSH_KEYS);
      if (typeof s.user !== "string" || s.user === "") {
        p.add(K(`${key}.ssh.user`), s.user, "ssh hosts need a login user", "set hosts[].ssh.user (a user in the docker group, or root)");
      }
      if (typeof s.privateKeySecret !== "string" || s.privateKeySecret === "") {
        p.add(
          K(`${key}.ssh.privateKeySecret`),
          s.privateKeySecret,
          "ssh hosts need a private key",
          "store the key with `pulumi config set --secret sshPrivateKey < key` and set hosts[].ssh.privateKeySecret: sshPrivateKey",
        );
      }
      ssh = {
        user: String(s.user ?? ""),
        port: int(p, `${key}.ssh.port`, s.port, 1, 65535, 22),
        privateKeySecret: String(s.privateKeySecret ?? ""),
        ...(typeof s.identityFile === "string" ? { identityFile: s.identityFile } : {}),
      };
    } else if (h.ssh !== undefined) {
      p.add(K(`${key}.ssh`), h.ssh, `ssh settings on a ${hostKind} host`, "remove them, or set lab:hostKind: ssh");
      // Typos in them are reported too, so fixing hostKind does not uncover a second round of problems.
      if (typeof h.ssh === "object" && h.ssh !== null && !Array.isArray(h.ssh)) unknownKeys(p, `${key}.ssh`, h.ssh, SSH_KEYS);
    }
    const paths = netnsLab ? netnsHostPaths(netnsLab, name, hname, ns.stateRoot ?? DEFAULTS.netnsStateRoot) : undefined;
    const execRoot = paths ? paths.execRoot : "/var/run/docker";
    const bipBlock = bipBlocks[i];
    const daemon = daemonPlan({
      overlayMode,
      bip: bipBlock ? `${formatIp(bipBlock.base + 1)}/24` : "",
      addressPool: { base: addrPool ? formatCidr(addrPool) : "", size: poolSize },
      ...(kv ? { clusterStore: kv.url } : {}),
      advertiseInterface,
      execRoot,
    });
    const port = DIND_API_PORT_BASE + i + 1;
    const endpoint =
      hostKind === "dind"
        ? `tcp://127.0.0.1:${port}`
        : hostKind === "netns"
          ? `unix://${paths!.socket}`
          : `ssh://${ssh?.user ?? ""}@${address}:${ssh?.port ?? 22}`;
    hosts.push({
      name: hname,
      index: i,
      kind: hostKind,
      address,
      dockerVersion,
      advertiseInterface,
      endpoint,
      daemon,
      ...(ssh ? { ssh } : {}),
      ...(paths ? { netns: paths } : {}),
      ...(hostKind === "dind" ? { publishedApiPort: port } : {}),
    });
  });

  // Networks
  const netsIn = list<NetworkInput>(p, "networks", input.networks, DEFAULTS.networks);
  const networks: NetworkPlan[] = [];
  const netNames = new Set<string>();
  const blocks: NamedBlock[] = [];
  if (underlay) blocks.push({ key: K("underlay.subnet"), text: formatCidr(underlay), cidr: underlay });
  if (bipBase) blocks.push({ key: K("bridge.bipBase"), text: formatCidr(bipBase), cidr: bipBase });
  if (addrPool) blocks.push({ key: K("bridge.addressPool"), text: formatCidr(addrPool), cidr: addrPool });
  if (swarmPool) blocks.push({ key: K("swarm.defaultAddrPool"), text: formatCidr(swarmPool), cidr: swarmPool });
  netsIn.forEach((nRaw, i) => {
    const key = `networks[${i}]`;
    const n = section<NetworkInput>(p, key, nRaw, NETWORK_KEYS);
    const nname = str(p, `${key}.name`, n.name, NET_RE, `net${i + 1}`, "letters, digits, '_', '.', '-'");
    if (n.name === undefined) p.add(K(`${key}.name`), undefined, "every network needs a name", "add name: ov_net1 (or similar)");
    else if (netNames.has(nname)) p.add(K(`${key}.name`), nname, "duplicate network name", "give every network a unique name");
    netNames.add(nname);
    const driver = oneOf(p, `${key}.driver`, n.driver ?? "(missing)", NETWORK_DRIVERS, "overlay", "network driver");
    const subnet = labCidr(p, `${key}.subnet`, n.subnet);
    const mtu = n.mtu === undefined ? undefined : int(p, `${key}.mtu`, n.mtu, 576, 9000, 1500);
    let gateway = "";
    if (subnet) {
      const gw = n.gateway === undefined ? subnet.base + 1 : labIp(p, `${key}.gateway`, n.gateway);
      if (gw !== undefined && !insideUsable(subnet, gw)) {
        p.add(K(`${key}.gateway`), n.gateway, `not a usable address of ${formatCidr(subnet)}`, "pick an address inside the network's subnet");
      }
      gateway = gw === undefined ? "" : formatIp(gw);
      const shares = driver === "macvlan" && n.vlan === undefined && underlay && subnet.base === underlay.base && subnet.prefix === underlay.prefix;
      blocks.push({ key: K(`${key}.subnet`), text: formatCidr(subnet), cidr: subnet, ...(shares ? { sharesWith: K("underlay.subnet") } : {}) });
    }
    if (driver === "overlay") {
      const createdOn = typeof n.createdOn === "string" ? n.createdOn : hosts[0]?.name ?? "";
      if (n.createdOn !== undefined && !hosts.some((h) => h.name === n.createdOn)) {
        p.add(K(`${key}.createdOn`), n.createdOn, "no such host", `use one of ${hosts.map((h) => h.name).join(", ")}`);
      }
      for (const f of ["parent", "vlan", "ipRangePool", "ipRanges"] as const) {
        if (n[f] !== undefined) p.add(K(`${key}.${f}`), n[f], "only macvlan networks take this setting", `remove ${f} or set driver: macvlan`);
      }
      // Swarm allocates an address of the network to every node that joins it (its lb-<network>
      // endpoint), lowest free first, and a container's --ip on a taken address then fails after 20 s
      // ("attaching to network failed"). Swarm gets the upper half as its --ip-range; the model's static
      // addresses come from the lower half.
      let ipRange: string | undefined;
      if (overlayMode === "swarm" && subnet) {
        const half: Cidr = { base: subnet.base + size(subnet) / 2, prefix: subnet.prefix + 1 };
        if (subnet.prefix > 28 || size(half) - 1 < hostsIn.length) {
          p.add(K(`${key}.subnet`), n.subnet, `too small for swarm mode: swarm takes the upper half (${subnet.prefix > 28 ? "a /29 or smaller has no room" : `${size(half) - 1} addresses`}) for one endpoint per host (${hostsIn.length} hosts)`, "use a /24 (or at least a /28 with few hosts)");
        } else ipRange = formatCidr(half);
      }
      const net: OverlayNetworkPlan = {
        name: nname,
        driver: "overlay",
        subnet: subnet ? formatCidr(subnet) : "",
        gateway,
        attachable: typeof n.attachable === "boolean" ? n.attachable : overlayMode === "swarm",
        createdOn,
        ...(mtu !== undefined ? { mtu } : {}),
        ...(ipRange ? { ipRange } : {}),
      };
      if (overlayMode === "swarm" && !net.attachable) {
        p.add(K(`${key}.attachable`), false, "swarm-mode overlays must be attachable for standalone containers", "remove attachable or set it to true");
      }
      networks.push(net);
    } else {
      const vlan = n.vlan === undefined ? undefined : int(p, `${key}.vlan`, n.vlan, 1, 4094, 1);
      const baseParent = str(p, `${key}.parent`, n.parent, IFACE_RE, underlayIface, "an interface name");
      const ranges = subnet ? macvlanRanges(p, key, n, subnet, hosts, reserved, underlay) : [];
      const net: MacvlanNetworkPlan = {
        name: nname,
        driver: "macvlan",
        subnet: subnet ? formatCidr(subnet) : "",
        gateway,
        parent: vlan === undefined ? baseParent : `${baseParent}.${vlan}`,
        ranges,
        ...(vlan !== undefined ? { vlan } : {}),
        ...(mtu !== undefined ? { mtu } : {}),
      };
      if (n.attachable !== undefined) p.add(K(`${key}.attachable`), n.attachable, "only overlay networks are attachable", "remove attachable");
      networks.push(net);
    }
  });
  checkOverlaps(p, blocks);

  // Workloads
  const wlIn = list<WorkloadInput>(p, "workloads", input.workloads, DEFAULTS.workloads);
  const workloads: WorkloadPlan[] = [];
  const wlNames = new Set<string>();
  const nextIp = new Map<string, number>(); // network (or network@host for macvlan) -> next offset
  wlIn.forEach((wRaw, i) => {
    const key = `workloads[${i}]`;
    const w = section<WorkloadInput>(p, key, wRaw, WORKLOAD_KEYS);
    const wname = str(p, `${key}.name`, w.name, CONTAINER_RE, `c${i + 1}`, "a container name");
    if (w.name === undefined) p.add(K(`${key}.name`), undefined, "every workload needs a name", "add name: test1 (or similar)");
    else if (wlNames.has(wname)) p.add(K(`${key}.name`), wname, "duplicate container name", "give every container a unique name (embedded DNS resolves by name)");
    wlNames.add(wname);
    const host = typeof w.host === "string" ? w.host : "";
    if (!hosts.some((h) => h.name === host)) {
      p.add(K(`${key}.host`), w.host, "unknown host", `use one of ${[...hostNames].join(", ") || "(no valid hosts)"}`);
    }
    const wantNets = list<string>(p, `${key}.networks`, w.networks, []);
    if (wantNets.length === 0) p.add(K(`${key}.networks`), w.networks, "a workload needs at least one network", "list the networks it attaches to, e.g. [ov_net1]");
    const aliases = list<string>(p, `${key}.aliases`, w.aliases, []).filter((a) => typeof a === "string");
    const attachments: WorkloadPlan["attachments"] = [];
    wantNets.forEach((netName, j) => {
      const net = networks.find((nn) => nn.name === netName);
      if (!net) {
        p.add(K(`${key}.networks[${j}]`), netName, "unknown network", `use one of ${networks.map((nn) => nn.name).join(", ") || "(no valid networks)"}`);
        return;
      }
      const ip = allocate(p, key, net, host, nextIp);
      attachments.push({ network: net.name, ipv4: ip, aliases });
    });
    if (hostKind === "netns" && typeof w.image === "string" && !isBusyboxImage(w.image)) {
      p.add(K(`${key}.image`), w.image, "netns labs have no registry: only busybox images, built locally from busybox-static, exist", `remove image (default ${IMAGES.busybox}) or use a busybox:<tag> name`);
    }
    workloads.push({
      name: wname,
      hostname: typeof w.hostname === "string" ? w.hostname : wname,
      host,
      image: typeof w.image === "string" ? w.image : IMAGES.busybox,
      attachments,
    });
  });

  // Verification
  const v = section<VerificationInput>(p, "verification", input.verification, VERIFICATION_KEYS);
  const defaultTarget = kv?.address ?? (gatewayIp !== undefined ? formatIp(gatewayIp) : "");
  const extIp = v.externalTarget === undefined ? undefined : labIp(p, "verification.externalTarget", v.externalTarget);
  const verification = {
    enabled: typeof v.enabled === "boolean" ? v.enabled : DEFAULTS.verification.enabled,
    externalTarget: extIp !== undefined ? formatIp(extIp) : defaultTarget,
    timeoutSeconds: int(p, "verification.timeoutSeconds", v.timeoutSeconds, 5, 600, DEFAULTS.verification.timeoutSeconds),
    settleSeconds: int(p, "verification.settleSeconds", v.settleSeconds, 0, 600, DEFAULTS.verification.settleSeconds),
  };

  p.throwIfAny();

  const plan: LabPlan = {
    name,
    hostKind,
    overlayMode,
    underlay: {
      subnet: formatCidr(underlay!),
      prefixLength: underlay!.prefix,
      gateway: formatIp(gatewayIp!),
      interface: underlayIface,
    },
    ...(kv ? { kv } : {}),
    ...(swarmPool
      ? { swarm: { defaultAddrPool: formatCidr(swarmPool), defaultAddrPoolMaskLength: swarmMask, manager: hosts[0]!.name } }
      : {}),
    hosts,
    networks,
    workloads,
    checks: [],
    verification,
    ...(netnsLab ? { netns: netnsLab } : {}),
  };
  plan.checks = planChecks(plan);
  return plan;
}

function insideUsable(c: Cidr, ip: number): boolean {
  return ip > c.base && ip < lastAddress(c);
}

function split24(c: Cidr): Cidr[] {
  return c.prefix > 24 ? [] : split(c, 2 ** (24 - c.prefix));
}

function checkOverlaps(p: Problems, blocks: NamedBlock[]): void {
  for (let i = 0; i < blocks.length; i++) {
    for (let j = i + 1; j < blocks.length; j++) {
      const a = blocks[i]!;
      const b = blocks[j]!;
      if (!overlaps(a.cidr, b.cidr)) continue;
      const same = a.cidr.base === b.cidr.base && a.cidr.prefix === b.cidr.prefix;
      if (same && (a.sharesWith === b.key || b.sharesWith === a.key)) continue;
      p.add(b.key, b.text, `overlaps ${a.key} (${a.text})`, "choose disjoint blocks (a macvlan network may reuse the underlay subnet exactly)");
    }
  }
}

function macvlanRanges(
  p: Problems,
  key: string,
  n: NetworkInput,
  subnet: Cidr,
  hosts: HostPlan[],
  reserved: Map<number, string>,
  underlay: Cidr | undefined,
): { host: string; ipRange: string }[] {
  const ranges: { host: string; ipRange: string; cidr: Cidr; key: string }[] = [];
  if (n.ipRanges !== undefined) {
    // A map, not a schema object: its keys are host names, checked against the hosts below.
    const given = obj<Record<string, unknown>>(p, `${key}.ipRanges`, n.ipRanges);
    for (const [hostName, text] of Object.entries(given)) {
      const rkey = `${key}.ipRanges.${hostName}`;
      if (!hosts.some((h) => h.name === hostName)) p.add(K(rkey), text, "no such host", `use one of ${hosts.map((h) => h.name).join(", ")}`);
      const c = labCidr(p, rkey, text);
      if (c) ranges.push({ host: hostName, ipRange: formatCidr(c), cidr: c, key: K(rkey) });
    }
    for (const h of hosts) {
      if (!(h.name in given)) p.add(K(`${key}.ipRanges.${h.name}`), undefined, "every host needs a macvlan ip-range", "add a range for this host or drop ipRanges to partition automatically");
    }
  } else {
    const poolText = n.ipRangePool ?? formatCidr({ base: subnet.base + size(subnet) / 2, prefix: subnet.prefix + 1 });
    const pool = labCidr(p, `${key}.ipRangePool`, poolText);
    if (!pool) return [];
    const parts = split(pool, hosts.length);
    if (parts.length < hosts.length || (parts[0] && size(parts[0]) < 4)) {
      p.add(K(`${key}.ipRangePool`), poolText, `too small to give each of ${hosts.length} hosts its own range`, "use a larger ipRangePool");
      return [];
    }
    hosts.forEach((h, i) => {
      const c = parts[i]!;
      ranges.push({ host: h.name, ipRange: formatCidr(c), cidr: c, key: K(`${key}.ipRangePool`) + ` (${h.name}'s part)` });
    });
  }
  for (const r of ranges) {
    if (!containsCidr(subnet, r.cidr)) {
      p.add(r.key, r.ipRange, `outside the macvlan subnet ${formatCidr(subnet)}`, "choose a range inside the network's subnet");
    }
    // Addresses of hosts, gateway and KV live on the underlay; a macvlan child must never take one.
    if (underlay && overlaps(underlay, r.cidr)) {
      const taken = [...reserved].filter(([ip]) => contains(r.cidr, ip)).map(([ip, owner]) => `${formatIp(ip)}, used by ${owner}`);
      if (taken.length > 0) p.add(r.key, r.ipRange, `contains ${taken.join("; ")}`, "move the range (or those addresses) so they do not meet");
    }
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      if (overlaps(ranges[i]!.cidr, ranges[j]!.cidr)) {
        p.add(ranges[j]!.key, ranges[j]!.ipRange, `overlaps ${ranges[i]!.host}'s range ${ranges[i]!.ipRange} (macvlan IPAM is per host, both would hand out the same addresses)`, "give every host a disjoint ip-range");
      }
    }
  }
  return ranges.map(({ host, ipRange }) => ({ host, ipRange }));
}

/** Static addresses: overlay from the subnet after the gateway; macvlan from the host's own range. */
function allocate(p: Problems, key: string, net: NetworkPlan, host: string, next: Map<string, number>): string {
  const subnet = parseCidr(net.subnet);
  if (!subnet) return "";
  const gw = parseIp(net.gateway);
  let block: Cidr = subnet;
  let slot = net.name;
  // swarm: static addresses stay below swarm's own range (the upper half).
  const swarmRange = net.driver === "overlay" && net.ipRange ? parseCidr(net.ipRange) : undefined;
  if (swarmRange) block = { base: subnet.base, prefix: subnet.prefix + 1 };
  if (net.driver === "macvlan") {
    const r = net.ranges.find((x) => x.host === host);
    const c = r ? parseCidr(r.ipRange) : undefined;
    if (!c) return "";
    block = c;
    slot = `${net.name}@${host}`;
  }
  let offset = next.get(slot) ?? 0;
  for (;;) {
    const ip = block.base + offset;
    offset++;
    if (ip > lastAddress(block) || offset > size(block)) {
      const holds = net.driver === "macvlan" ? `${host}'s range ${formatCidr(block)}` : swarmRange ? `the static half ${formatCidr(block)} of ${net.subnet} (swarm allocates from ${net.ipRange})` : `subnet ${net.subnet}`;
      p.add(K(`${key}.networks`), net.name, `more containers than ${holds} holds (${usableHosts(block)} addresses)`, "use a larger subnet/range or fewer containers");
      next.set(slot, offset);
      return "";
    }
    // Skip the network and broadcast addresses and the gateway.
    if (ip === subnet.base || ip === lastAddress(subnet) || ip === gw) continue;
    next.set(slot, offset);
    return formatIp(ip);
  }
}
