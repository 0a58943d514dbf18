// Config -> validated, normalized LabPlan. Every problem is collected and reported in one error
// before anything else runs, so bad config never reaches the Pulumi engine or a script.
import { planChecks } from "./checks.js";
import {
  BRIDGE_KEYS,
  type BridgeInput,
  CONFIG_KEYS,
  HOST_KEYS,
  type HostInput,
  IMAGES_KEYS,
  type ImagesInput,
  KV_KEYS,
  type KvInput,
  type LabConfigInput,
  NETNS_KEYS,
  type NetnsInput,
  NETWORK_KEYS,
  type NetworkInput,
  SSH_DOCKER_KEYS,
  SSH_KEYS,
  type SshDockerInput,
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
import { DEFAULT_DOCKER_VERSION, DEFAULTS, DIND_API_PORT_BASE, IMAGES, KV_PORTS, KV_SCHEMES } from "./defaults.js";
import { nearest, Problems } from "./errors.js";
import { dockerVersionOfImage, isBusyboxImage, isImageRef } from "./images.js";
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
import { netnsHostPaths, type NetnsLabPaths, netnsLabPaths } from "./netns.js";
import {
  HOST_KINDS,
  type HostKind,
  type HostPlan,
  KV_KINDS,
  type KvKind,
  type KvPlan,
  type LabPlan,
  type MacvlanNetworkPlan,
  type NetnsDockerd,
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

function oneOf<T extends string>(p: Problems, key: string, value: unknown, allowed: readonly T[], fallback: T, what: string): T {
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
    else
      p.add(at(k), v, "unknown key", `remove it; the valid keys ${key === ROOT ? "of lab:* are" : `of ${K(key)} are`} ${keys.join(", ")}`);
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

/** What every stage depends on: the lab's name, its host kind and its overlay mode. */
interface Lab {
  name: string;
  hostKind: HostKind;
  overlayMode: OverlayMode;
}

interface Underlay {
  cidr: Cidr | undefined;
  gatewayIp: number | undefined;
  iface: string;
  /**
   * Underlay addresses already taken -> the key that took them. The stages that put something on the
   * underlay (gateway, KV store, hosts) add theirs in that order; macvlan ranges must avoid them all.
   */
  reserved: Map<number, string>;
}

interface Bridge {
  bipBase: Cidr | undefined;
  addrPool: Cidr | undefined;
  poolSize: number;
}

interface Swarm {
  pool: Cidr | undefined;
  maskLength: number;
}

interface Netns {
  /** Only on netns labs. */
  paths: NetnsLabPaths | undefined;
  stateRoot: string;
}

/**
 * Config -> plan, one stage per part of the lab. Each stage reads its own section and reports into
 * the one collector; later stages take what earlier ones resolved (hosts need the KV URL, networks
 * the hosts, workloads the networks). Nothing is returned until every stage has run, so one error
 * lists every problem.
 */
export function buildPlan(raw: unknown): LabPlan {
  const p = new Problems();
  const input = section<LabConfigInput>(p, ROOT, raw, CONFIG_KEYS);
  const lab = readLab(p, input);
  const images = readImages(p, input.images, lab);
  const underlay = readUnderlay(p, input.underlay);
  const kv = readKv(p, input.kv, lab, underlay, firstHostInput(input.hosts), images);
  const bridge = readBridge(p, input.bridge);
  const swarm = readSwarm(p, input.swarm, lab.overlayMode);
  const hostList = readHostList(p, input.hosts, bridge);
  const netns = readNetns(p, input.netns, lab);
  const hosts = readHosts(p, hostList, { lab, underlay, kv, bridge, netns, dindVersion: images.dindVersion });
  const { networks, blocks } = readNetworks(p, input.networks, { lab, underlay, hosts });
  checkOverlaps(p, [...labBlocks(underlay, bridge, swarm), ...blocks]);
  const workloads = readWorkloads(p, input.workloads, lab.hostKind, hosts, networks, images.workload);
  const verification = readVerification(p, input.verification, kv, underlay);

  p.throwIfAny();

  const plan: LabPlan = {
    name: lab.name,
    hostKind: lab.hostKind,
    overlayMode: lab.overlayMode,
    underlay: {
      subnet: formatCidr(underlay.cidr!),
      prefixLength: underlay.cidr!.prefix,
      gateway: formatIp(underlay.gatewayIp!),
      interface: underlay.iface,
    },
    ...(kv ? { kv } : {}),
    ...(swarm.pool
      ? { swarm: { defaultAddrPool: formatCidr(swarm.pool), defaultAddrPoolMaskLength: swarm.maskLength, manager: hosts[0]!.name } }
      : {}),
    hosts,
    networks,
    workloads,
    checks: { pairs: [], single: [] },
    verification,
    images: {
      ...(images.dind !== undefined ? { dind: images.dind } : {}),
      ...(kv && (kv.provision === "local-container" || kv.provision === "host-container") ? { kv: kv.image } : {}),
      workload: images.workload,
    },
    ...(netns.paths ? { netns: netns.paths } : {}),
  };
  plan.checks = planChecks(plan);
  return plan;
}

function readLab(p: Problems, input: LabConfigInput): Lab {
  return {
    name: str(p, "name", input.name, NAME_RE, DEFAULTS.name, "lowercase letters, digits, '-', at most 16"),
    hostKind: oneOf(p, "hostKind", input.hostKind, HOST_KINDS, DEFAULTS.hostKind, "host kind"),
    overlayMode: oneOf(p, "overlayMode", input.overlayMode, OVERLAY_MODES, DEFAULTS.overlayMode, "overlay mode"),
  };
}

/** lab:images as read: the image every part of the lab runs unless it names its own. */
interface Images {
  /** dind kind: the image of the overlay mode's hosts. */
  dind: string | undefined;
  /** What the dind image's tag says about its Docker: the dind hosts' dockerVersion unless they set one. */
  dindVersion: string | undefined;
  /** images.kv as given (else the KV kind's official image, chosen once the kind is known). */
  kv: string | undefined;
  workload: string;
}

/** An image reference; the fallback when it is absent (or wrong, which is reported). */
function imageRef(p: Problems, key: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value === "string" && isImageRef(value)) return value;
  p.add(
    K(key),
    value,
    "not an image reference",
    "write it as [registry[:port]/]repository[:tag] in lowercase, e.g. registry.example.com/mirror/busybox:1.36.1",
  );
  return fallback;
}

/** netns hosts have no registry: their images are built from busybox-static, so only busybox names exist. */
function netnsBusybox(p: Problems, key: string, value: unknown): void {
  if (typeof value === "string" && !isBusyboxImage(value)) {
    p.add(
      K(key),
      value,
      "netns labs have no registry: only busybox images, built locally from busybox-static, exist",
      `remove it (default ${IMAGES.busybox}) or use a busybox:<tag> name`,
    );
  }
}

/**
 * The images of the lab: the official ones unless lab:images names others (a registry mirror, images
 * built for an air gap). Every one is checked; those this lab's kind or mode does not run (the dind
 * images on netns or ssh hosts, the other mode's dind image) stay unused, so one stack file can switch
 * lab:hostKind or lab:overlayMode and keep its mirror.
 */
function readImages(p: Problems, value: unknown, lab: Lab): Images {
  const im = section<ImagesInput>(p, "images", value, IMAGES_KEYS);
  const dindKv = imageRef(p, "images.dindKv", im.dindKv, IMAGES.dindKv);
  const dindSwarm = imageRef(p, "images.dindSwarm", im.dindSwarm, IMAGES.dindSwarm);
  const kv = im.kv === undefined ? undefined : imageRef(p, "images.kv", im.kv, "");
  const workload = imageRef(p, "images.workload", im.workload, IMAGES.busybox);
  if (lab.hostKind === "netns") netnsBusybox(p, "images.workload", im.workload);
  const dind = lab.hostKind === "dind" ? (lab.overlayMode === "kv" ? dindKv : dindSwarm) : undefined;
  const dindVersion = dind === undefined ? undefined : dockerVersionOfImage(dind);
  if (lab.hostKind === "dind" && lab.overlayMode === "kv" && dindVersion !== undefined && !supportsClusterStore(dindVersion)) {
    p.add(
      K("images.dindKv"),
      dindKv,
      `its tag says Docker ${dindVersion}, which has no --cluster-store (removed in 23.0): kv overlay mode needs it`,
      "use a Docker 20.10 dind image (or set lab:overlayMode: swarm)",
    );
  }
  return { dind, dindVersion, kv, workload };
}

function readUnderlay(p: Problems, value: unknown): Underlay {
  const u = section<UnderlayInput>(p, "underlay", value, UNDERLAY_KEYS);
  const cidr = labCidr(p, "underlay.subnet", u.subnet ?? DEFAULTS.underlay.subnet);
  const iface = str(p, "underlay.interface", u.interface, IFACE_RE, DEFAULTS.underlay.interface, "an interface name");
  const gatewayIp = cidr ? gatewayOf(p, "underlay.gateway", cidr, u.gateway, "the underlay subnet") : undefined;
  const reserved = new Map<number, string>();
  if (gatewayIp !== undefined) reserved.set(gatewayIp, K("underlay.gateway"));
  return { cidr, gatewayIp, iface, reserved };
}

/** A subnet's gateway: its first address unless given. An unusable one is returned all the same: it is reported here, and no plan is built while a problem stands. */
function gatewayOf(p: Problems, key: string, subnet: Cidr, value: unknown, inside: string): number | undefined {
  const gw = value === undefined ? subnet.base + 1 : labIp(p, key, value);
  if (gw !== undefined && !insideUsable(subnet, gw)) {
    p.add(K(key), value, `not a usable address of ${formatCidr(subnet)}`, `pick an address inside ${inside}`);
  }
  return gw;
}

/** The first host as written: on ssh hosts the KV store runs there, so the KV stage needs it before the hosts are read. */
function firstHostInput(hosts: unknown): HostInput | undefined {
  return Array.isArray(hosts) ? (hosts[0] as HostInput | undefined) : undefined;
}

/** The KV store (kv mode only; swarm keeps its state in raft). */
function readKv(
  p: Problems,
  value: unknown,
  lab: Lab,
  underlay: Underlay,
  firstHost: HostInput | undefined,
  images: Images,
): KvPlan | undefined {
  const kvIn = section<KvInput>(p, "kv", value, KV_KEYS);
  // Debian's docker.io 20.10 (the netns hosts' dockerd) is built without the consul cluster-store
  // backend ("avoid dependencies on consul"), so netns labs default to etcd.
  const kind: KvKind = oneOf(p, "kv.kind", kvIn.kind, KV_KINDS, lab.hostKind === "netns" ? "etcd" : DEFAULTS.kv.kind, "KV store kind");
  const external = kvIn.external === true;
  if (kvIn.external !== undefined && typeof kvIn.external !== "boolean") {
    p.add(K("kv.external"), kvIn.external, "must be true or false", "set kv.external: true for a KV store the lab does not run");
  }
  if (lab.overlayMode !== "kv" || !underlay.cidr) return undefined;
  // ssh hosts: the KV runs on the first host with host networking, as in the article, unless external.
  const onHost = lab.hostKind === "ssh" && !external;
  const addrText = onHost ? (kvIn.address ?? firstHost?.address) : kvIn.address;
  const addr = addrText === undefined ? underlay.cidr.base + 2 : labIp(p, "kv.address", addrText);
  checkKvPlacement(p, kvIn, { onHost, external, firstHost });
  if (addr === undefined) return undefined;
  reserveKvAddress(p, kvIn, addr, underlay.cidr, underlay.reserved, { onHost, external });
  const port = int(p, "kv.port", kvIn.port, 1, 65535, KV_PORTS[kind]);
  const provision: KvPlan["provision"] = external
    ? "external"
    : lab.hostKind === "dind"
      ? "local-container"
      : lab.hostKind === "netns"
        ? "netns"
        : "host-container";
  return {
    kind,
    address: formatIp(addr),
    port,
    url: `${KV_SCHEMES[kind]}://${formatIp(addr)}:${port}`,
    image: kvImage(p, kvIn.image, images.kv, kind),
    nodeName: `${lab.name}-kv`,
    provision,
    ...(onHost && typeof firstHost?.name === "string" ? { runsOn: firstHost.name } : {}),
  };
}

/** The KV server's image: kv.image, else lab:images.kv, else the kind's official image; both set must agree. */
function kvImage(p: Problems, own: unknown, fromImages: string | undefined, kind: KvKind): string {
  if (own === undefined) return fromImages ?? IMAGES[kind];
  const image = imageRef(p, "kv.image", own, fromImages ?? IMAGES[kind]);
  if (fromImages !== undefined && image !== fromImages) {
    p.add(
      K("kv.image"),
      own,
      `lab:images.kv names another image for the KV server (${fromImages})`,
      "name the image in one place: lab:images.kv, and remove kv.image",
    );
  }
  return image;
}

interface KvPlacement {
  /** ssh labs run the KV store on the first host, at that host's address. */
  onHost: boolean;
  external: boolean;
}

/** Where the KV store may run: settings that contradict the host kind or leave its address open. Every kind runs on every host kind. */
function checkKvPlacement(p: Problems, kvIn: KvInput, at: KvPlacement & { firstHost: HostInput | undefined }): void {
  if (at.onHost && kvIn.address !== undefined && kvIn.address !== at.firstHost?.address) {
    p.add(
      K("kv.address"),
      kvIn.address,
      "on ssh hosts the lab runs the KV store on the first host, at its address",
      "remove kv.address, or set kv.external: true for a KV store you run yourself",
    );
  }
  if (at.external && kvIn.address === undefined) {
    p.add(K("kv.address"), undefined, "an external KV store needs its address", "set kv.address to the address the daemons reach it on");
  }
}

/** Takes the KV store's underlay address. On a host it shares that host's address, so the host reserves it instead. */
function reserveKvAddress(p: Problems, kvIn: KvInput, addr: number, underlay: Cidr, reserved: Map<number, string>, at: KvPlacement): void {
  if (!insideUsable(underlay, addr) && !at.external) {
    p.add(
      K("kv.address"),
      kvIn.address,
      `not a usable address of the underlay ${formatCidr(underlay)}`,
      "put the KV store on the underlay subnet",
    );
  } else if (reserved.has(addr)) {
    p.add(K("kv.address"), formatIp(addr), `already used by ${reserved.get(addr)}`, "give the KV store its own address");
  } else if (!at.onHost) reserved.set(addr, K("kv.address"));
}

/** Bridge pools: keep docker0 and docker_gwbridge out of 172.17.0.0/16. */
function readBridge(p: Problems, value: unknown): Bridge {
  const b = section<BridgeInput>(p, "bridge", value, BRIDGE_KEYS);
  const bipBase = labCidr(p, "bridge.bipBase", b.bipBase ?? DEFAULTS.bridge.bipBase);
  const addrPool = labCidr(p, "bridge.addressPool", b.addressPool ?? DEFAULTS.bridge.addressPool);
  const poolSize = int(p, "bridge.poolSize", b.poolSize, 16, 29, DEFAULTS.bridge.poolSize);
  if (addrPool && poolSize < addrPool.prefix) {
    p.add(
      K("bridge.poolSize"),
      poolSize,
      `smaller than the pool's own prefix /${addrPool.prefix}`,
      `use a size of at least ${addrPool.prefix}`,
    );
  }
  return { bipBase, addrPool, poolSize };
}

/** Swarm's address pool (swarm mode only). */
function readSwarm(p: Problems, value: unknown, overlayMode: OverlayMode): Swarm {
  const sw = section<SwarmInput>(p, "swarm", value, SWARM_KEYS);
  const pool =
    overlayMode === "swarm" ? labCidr(p, "swarm.defaultAddrPool", sw.defaultAddrPool ?? DEFAULTS.swarm.defaultAddrPool) : undefined;
  const maskLength = int(p, "swarm.maskLength", sw.maskLength, 16, 29, DEFAULTS.swarm.maskLength);
  return { pool, maskLength };
}

interface HostList {
  entries: HostInput[];
  /** Each host's docker0 network: the i-th /24 of bridge.bipBase. */
  bips: Cidr[];
}

function readHostList(p: Problems, value: unknown, bridge: Bridge): HostList {
  const entries = list<HostInput>(p, "hosts", value, DEFAULTS.hosts);
  if (entries.length === 0) p.add(K("hosts"), [], "no hosts", "list at least one host (two for cross-host networking)");
  const bips = bridge.bipBase ? split24(bridge.bipBase) : [];
  if (bridge.bipBase && entries.length > bips.length) {
    p.add(
      K("bridge.bipBase"),
      formatCidr(bridge.bipBase),
      `holds ${bips.length} /24 bridge networks but there are ${entries.length} hosts`,
      "use a larger block (one /24 per host)",
    );
  }
  return { entries, bips };
}

/** netns labs keep runtime state and data roots on this machine; the section is checked on every kind. */
function readNetns(p: Problems, value: unknown, lab: Lab): Netns {
  const ns = section<NetnsInput>(p, "netns", value, NETNS_KEYS);
  return {
    paths: lab.hostKind === "netns" ? netnsLabPaths(lab.name, ns.root ?? DEFAULTS.netnsRoot) : undefined,
    stateRoot: ns.stateRoot ?? DEFAULTS.netnsStateRoot,
  };
}

interface HostContext {
  lab: Lab;
  underlay: Underlay;
  kv: KvPlan | undefined;
  bridge: Bridge;
  netns: Netns;
  /** dind: the Docker version the dind image's tag names. */
  dindVersion: string | undefined;
}

function readHosts(p: Problems, hostList: HostList, ctx: HostContext): HostPlan[] {
  const names = new Set<string>();
  return hostList.entries.map((h, i) => readHost(p, h, i, hostList.bips[i], ctx, names));
}

function readHost(p: Problems, hRaw: unknown, i: number, bip: Cidr | undefined, ctx: HostContext, names: Set<string>): HostPlan {
  const { lab } = ctx;
  const key = `hosts[${i}]`;
  const h = section<HostInput>(p, key, hRaw, HOST_KEYS);
  const name = str(p, `${key}.name`, h.name, HOST_RE, `host${i + 1}`, "a hostname: lowercase letters, digits, '-'");
  if (h.name === undefined) p.add(K(`${key}.name`), undefined, "every host needs a name", `add name: host${i + 1}`);
  else if (names.has(name)) {
    p.add(K(`${key}.name`), name, "duplicate host name (overlay gossip needs a unique hostname per host)", "give every host a unique name");
  }
  names.add(name);
  const address = hostAddress(p, key, h.address, ctx.underlay);
  const { dockerVersion, netnsDockerd } = hostDockerVersion(p, key, h.dockerVersion, lab, ctx.dindVersion);
  const advertiseInterface = str(p, `${key}.advertiseInterface`, h.advertiseInterface, IFACE_RE, ctx.underlay.iface, "an interface name");
  const ssh = hostSsh(p, key, h.ssh, lab.hostKind);
  const paths = ctx.netns.paths ? netnsHostPaths(ctx.netns.paths, lab.name, name, ctx.netns.stateRoot) : undefined;
  const daemon = daemonPlan({
    overlayMode: lab.overlayMode,
    bip: bip ? `${formatIp(bip.base + 1)}/24` : "",
    addressPool: { base: ctx.bridge.addrPool ? formatCidr(ctx.bridge.addrPool) : "", size: ctx.bridge.poolSize },
    ...(ctx.kv ? { clusterStore: ctx.kv.url } : {}),
    advertiseInterface,
    // Where the daemon keeps its network namespaces (the verifier reads the overlay's VXLAN device there).
    execRoot: paths ? paths.execRoot : (ssh?.docker?.execRoot ?? "/var/run/docker"),
  });
  const port = DIND_API_PORT_BASE + i + 1;
  return {
    name,
    index: i,
    kind: lab.hostKind,
    address,
    dockerVersion,
    advertiseInterface,
    endpoint: hostEndpoint(lab.hostKind, port, paths, ssh, address),
    daemon,
    ...(ssh ? { ssh } : {}),
    ...(paths ? { netns: paths } : {}),
    ...(netnsDockerd ? { netnsDockerd } : {}),
    ...(lab.hostKind === "dind" ? { publishedApiPort: port } : {}),
  };
}

/** The host's underlay address; 0.0.0.0 while the address or the underlay is invalid (already reported). */
function hostAddress(p: Problems, key: string, value: unknown, underlay: Underlay): string {
  const ip = labIp(p, `${key}.address`, value);
  if (ip === undefined || !underlay.cidr) return "0.0.0.0";
  if (!insideUsable(underlay.cidr, ip)) {
    p.add(
      K(`${key}.address`),
      value,
      `not a usable address of the underlay ${formatCidr(underlay.cidr)}`,
      "put every host on the underlay subnet",
    );
  } else if (underlay.reserved.has(ip)) {
    p.add(K(`${key}.address`), value, `already used by ${underlay.reserved.get(ip)}`, "give every host its own address");
  } else underlay.reserved.set(ip, K(`${key}.address`));
  return formatIp(ip);
}

/** dind hosts run what their image's tag says (checked with lab:images); ssh hosts what they are said to run. */
function hostDockerVersion(
  p: Problems,
  key: string,
  value: unknown,
  lab: Lab,
  dindVersion: string | undefined,
): { dockerVersion: string; netnsDockerd?: NetnsDockerd } {
  if (lab.hostKind === "netns") return netnsDockerVersion(p, key, value, lab);
  const fromImage = value === undefined ? dindVersion : undefined;
  const version = typeof value === "string" ? value : (fromImage ?? DEFAULT_DOCKER_VERSION[lab.overlayMode]);
  if (!/^\d+\.\d+(\.\d+)?$/.test(version)) {
    p.add(K(`${key}.dockerVersion`), value, "not a Docker version", "write it like 20.10 or 27.5.1");
  } else if (fromImage === undefined) checkKvVersion(p, key, version, version, lab);
  return { dockerVersion: version };
}

/** The Docker versions a netns host can run, as written -> the dockerd that runs it and the version the plan shows. */
const NETNS_DOCKER_VERSIONS = new Map<string, { netnsDockerd: NetnsDockerd; dockerVersion: string }>([
  ["20.10", { netnsDockerd: "20.10", dockerVersion: "20.10" }],
  ["26", { netnsDockerd: "26", dockerVersion: "26.1" }],
  ["26.1", { netnsDockerd: "26", dockerVersion: "26.1" }],
]);

/** netns hosts run a dockerd of this machine: Debian's 20.10 (default) or Debian trixie's 26.1 from the cache. */
function netnsDockerVersion(p: Problems, key: string, value: unknown, lab: Lab): { dockerVersion: string; netnsDockerd: NetnsDockerd } {
  const known =
    value === undefined ? NETNS_DOCKER_VERSIONS.get("20.10")! : typeof value === "string" ? NETNS_DOCKER_VERSIONS.get(value) : undefined;
  if (!known) {
    p.add(
      K(`${key}.dockerVersion`),
      value,
      "netns hosts run this machine's Debian docker.io 20.10 or Debian trixie's docker.io 26.1 (fetched into a cache)",
      'set dockerVersion to "20.10" (the default) or "26" (npm run docker26:fetch, then export DNLAB_DOCKERD_26=<the path it prints>)',
    );
    return { dockerVersion: "20.10", netnsDockerd: "20.10" };
  }
  checkKvVersion(p, key, value, known.dockerVersion, lab);
  return known;
}

/** kv mode needs --cluster-store, which Docker 23.0 removed. */
function checkKvVersion(p: Problems, key: string, value: unknown, version: string, lab: Lab): void {
  if (lab.overlayMode === "kv" && !supportsClusterStore(version)) {
    p.add(
      K(`${key}.dockerVersion`),
      value,
      "kv overlay mode needs --cluster-store, which Docker 23.0 removed",
      "set lab:overlayMode to swarm (or use Docker 20.10 on this host)",
    );
  }
}

/** ssh login of an ssh host; on other kinds, ssh settings are a mistake. */
function hostSsh(p: Problems, key: string, value: unknown, hostKind: HostKind): HostPlan["ssh"] {
  if (hostKind === "ssh") return readSsh(p, `${key}.ssh`, value);
  if (value !== undefined) {
    p.add(K(`${key}.ssh`), value, `ssh settings on a ${hostKind} host`, "remove them, or set lab:hostKind: ssh");
    // Typos in them are reported too, so fixing hostKind does not uncover a second round of problems.
    if (typeof value === "object" && value !== null && !Array.isArray(value)) unknownKeys(p, `${key}.ssh`, value, SSH_KEYS);
  }
  return undefined;
}

function readSsh(p: Problems, key: string, value: unknown): NonNullable<HostPlan["ssh"]> {
  const s = section<SshInput>(p, key, value, SSH_KEYS);
  if (typeof s.user !== "string" || s.user === "") {
    p.add(K(`${key}.user`), s.user, "ssh hosts need a login user", "set hosts[].ssh.user (a user in the docker group, or root)");
  }
  if (typeof s.privateKeySecret !== "string" || s.privateKeySecret === "") {
    p.add(
      K(`${key}.privateKeySecret`),
      s.privateKeySecret,
      "ssh hosts need a private key",
      "store the key with `pulumi config set --secret sshPrivateKey < key` and set hosts[].ssh.privateKeySecret: sshPrivateKey",
    );
  }
  const docker = s.docker === undefined ? undefined : readSshDocker(p, `${key}.docker`, s.docker);
  const stateDir = hostPath(p, `${key}.stateDir`, s.stateDir, "/var/lib/dnlab-remote/<lab>");
  return {
    user: String(s.user ?? ""),
    port: int(p, `${key}.port`, s.port, 1, 65535, 22),
    privateKeySecret: String(s.privateKeySecret ?? ""),
    ...(typeof s.identityFile === "string" ? { identityFile: s.identityFile } : {}),
    ...(docker ? { docker } : {}),
    ...(stateDir ? { stateDir } : {}),
  };
}

/** An optional absolute path on an ssh host; anything else is a problem naming the key. */
function hostPath(p: Problems, key: string, value: unknown, fallback: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && /^\/[^\0\n]+$/.test(value)) return value;
  p.add(K(key), value, "must be an absolute path on the host", `write it as /path/on/the/host (or remove it for ${fallback})`);
  return undefined;
}

/** Absolute paths on the host (and a unix:// socket): docker-daemon.sh runs them as root. */
function readSshDocker(p: Problems, key: string, value: unknown): NonNullable<NonNullable<HostPlan["ssh"]>["docker"]> {
  const d = section<SshDockerInput>(p, key, value, SSH_DOCKER_KEYS);
  const out: NonNullable<NonNullable<HostPlan["ssh"]>["docker"]> = {};
  for (const f of ["daemonJson", "pidFile", "logFile", "execRoot"] as const) {
    const v = hostPath(p, `${key}.${f}`, d[f], "the default");
    if (v !== undefined) out[f] = v;
  }
  if (d.socket !== undefined) {
    if (typeof d.socket === "string" && /^unix:\/\/\/[^\0\n]+$/.test(d.socket)) out.socket = d.socket;
    else
      p.add(
        K(`${key}.socket`),
        d.socket,
        "must be a unix socket URL",
        "write it as unix:///path/to/docker.sock (or remove it for the default)",
      );
  }
  return out;
}

/** How the lab reaches the host's Docker API: a published port (dind), a socket (netns) or ssh. */
function hostEndpoint(hostKind: HostKind, port: number, paths: HostPlan["netns"], ssh: HostPlan["ssh"], address: string): string {
  if (hostKind === "dind") return `tcp://127.0.0.1:${port}`;
  if (hostKind === "netns") return `unix://${paths!.socket}`;
  return `ssh://${ssh?.user ?? ""}@${address}:${ssh?.port ?? 22}`;
}

interface NetworkContext {
  lab: Lab;
  underlay: Underlay;
  hosts: HostPlan[];
}

/** What overlay and macvlan networks share, read before the driver's own settings. */
interface NetworkBasics {
  name: string;
  subnet: Cidr | undefined;
  gateway: string;
  mtu: number | undefined;
}

/** The networks, and their subnets as blocks for the overlap check. */
function readNetworks(p: Problems, value: unknown, ctx: NetworkContext): { networks: NetworkPlan[]; blocks: NamedBlock[] } {
  const names = new Set<string>();
  const networks: NetworkPlan[] = [];
  const blocks: NamedBlock[] = [];
  list<NetworkInput>(p, "networks", value, DEFAULTS.networks).forEach((nRaw, i) => {
    const { net, block } = readNetwork(p, nRaw, i, ctx, names);
    networks.push(net);
    if (block) blocks.push(block);
  });
  return { networks, blocks };
}

function readNetwork(
  p: Problems,
  nRaw: unknown,
  i: number,
  ctx: NetworkContext,
  names: Set<string>,
): { net: NetworkPlan; block: NamedBlock | undefined } {
  const key = `networks[${i}]`;
  const n = section<NetworkInput>(p, key, nRaw, NETWORK_KEYS);
  const name = str(p, `${key}.name`, n.name, NET_RE, `net${i + 1}`, "letters, digits, '_', '.', '-'");
  if (n.name === undefined) p.add(K(`${key}.name`), undefined, "every network needs a name", "add name: ov_net1 (or similar)");
  else if (names.has(name)) p.add(K(`${key}.name`), name, "duplicate network name", "give every network a unique name");
  names.add(name);
  const driver = oneOf(p, `${key}.driver`, n.driver ?? "(missing)", NETWORK_DRIVERS, "overlay", "network driver");
  const subnet = labCidr(p, `${key}.subnet`, n.subnet);
  const mtu = n.mtu === undefined ? undefined : int(p, `${key}.mtu`, n.mtu, 576, 9000, 1500);
  const gw = subnet ? gatewayOf(p, `${key}.gateway`, subnet, n.gateway, "the network's subnet") : undefined;
  const basics: NetworkBasics = { name, subnet, gateway: gw === undefined ? "" : formatIp(gw), mtu };
  const net = driver === "overlay" ? overlayNetwork(p, key, n, basics, ctx) : macvlanNetwork(p, key, n, basics, ctx);
  return { net, block: subnet ? networkBlock(key, n, subnet, driver, ctx.underlay.cidr) : undefined };
}

/** A macvlan on exactly the underlay subnet (no VLAN) is the same L2 segment, so that one overlap is allowed. */
function networkBlock(key: string, n: NetworkInput, subnet: Cidr, driver: string, underlay: Cidr | undefined): NamedBlock {
  const shares =
    driver === "macvlan" && n.vlan === undefined && underlay && subnet.base === underlay.base && subnet.prefix === underlay.prefix;
  return { key: K(`${key}.subnet`), text: formatCidr(subnet), cidr: subnet, ...(shares ? { sharesWith: K("underlay.subnet") } : {}) };
}

function overlayNetwork(p: Problems, key: string, n: NetworkInput, basics: NetworkBasics, ctx: NetworkContext): OverlayNetworkPlan {
  const { hosts, lab } = ctx;
  const createdOn = typeof n.createdOn === "string" ? n.createdOn : (hosts[0]?.name ?? "");
  if (n.createdOn !== undefined && !hosts.some((h) => h.name === n.createdOn)) {
    p.add(K(`${key}.createdOn`), n.createdOn, "no such host", `use one of ${hosts.map((h) => h.name).join(", ")}`);
  }
  for (const f of ["parent", "vlan", "ipRangePool", "ipRanges"] as const) {
    if (n[f] !== undefined) p.add(K(`${key}.${f}`), n[f], "only macvlan networks take this setting", `remove ${f} or set driver: macvlan`);
  }
  const ipRange = lab.overlayMode === "swarm" && basics.subnet ? swarmIpRange(p, key, n.subnet, basics.subnet, hosts.length) : undefined;
  const net: OverlayNetworkPlan = {
    name: basics.name,
    driver: "overlay",
    subnet: basics.subnet ? formatCidr(basics.subnet) : "",
    gateway: basics.gateway,
    attachable: typeof n.attachable === "boolean" ? n.attachable : lab.overlayMode === "swarm",
    createdOn,
    ...(basics.mtu !== undefined ? { mtu: basics.mtu } : {}),
    ...(ipRange ? { ipRange } : {}),
  };
  if (lab.overlayMode === "swarm" && !net.attachable) {
    p.add(
      K(`${key}.attachable`),
      false,
      "swarm-mode overlays must be attachable for standalone containers",
      "remove attachable or set it to true",
    );
  }
  return net;
}

/**
 * Swarm allocates an address of the network to every node that joins it (its lb-<network>
 * endpoint), lowest free first, and a container's --ip on a taken address then fails after 20 s
 * ("attaching to network failed"). Swarm gets the upper half as its --ip-range; the model's static
 * addresses come from the lower half.
 */
function swarmIpRange(p: Problems, key: string, text: unknown, subnet: Cidr, hostCount: number): string | undefined {
  const half: Cidr = { base: subnet.base + size(subnet) / 2, prefix: subnet.prefix + 1 };
  if (subnet.prefix > 28 || size(half) - 1 < hostCount) {
    p.add(
      K(`${key}.subnet`),
      text,
      `too small for swarm mode: swarm takes the upper half (${subnet.prefix > 28 ? "a /29 or smaller has no room" : `${size(half) - 1} addresses`}) for one endpoint per host (${hostCount} hosts)`,
      "use a /24 (or at least a /28 with few hosts)",
    );
    return undefined;
  }
  return formatCidr(half);
}

function macvlanNetwork(p: Problems, key: string, n: NetworkInput, basics: NetworkBasics, ctx: NetworkContext): MacvlanNetworkPlan {
  const vlan = n.vlan === undefined ? undefined : int(p, `${key}.vlan`, n.vlan, 1, 4094, 1);
  const baseParent = str(p, `${key}.parent`, n.parent, IFACE_RE, ctx.underlay.iface, "an interface name");
  const ranges = basics.subnet ? macvlanRanges(p, key, n, basics.subnet, ctx.hosts, ctx.underlay.reserved, ctx.underlay.cidr) : [];
  const net: MacvlanNetworkPlan = {
    name: basics.name,
    driver: "macvlan",
    subnet: basics.subnet ? formatCidr(basics.subnet) : "",
    gateway: basics.gateway,
    parent: vlan === undefined ? baseParent : `${baseParent}.${vlan}`,
    ranges,
    ...(vlan !== undefined ? { vlan } : {}),
    ...(basics.mtu !== undefined ? { mtu: basics.mtu } : {}),
  };
  if (n.attachable !== undefined) p.add(K(`${key}.attachable`), n.attachable, "only overlay networks are attachable", "remove attachable");
  return net;
}

/** The blocks of the lab itself, which no network may overlap. */
function labBlocks(underlay: Underlay, bridge: Bridge, swarm: Swarm): NamedBlock[] {
  const named: [string, Cidr | undefined][] = [
    ["underlay.subnet", underlay.cidr],
    ["bridge.bipBase", bridge.bipBase],
    ["bridge.addressPool", bridge.addrPool],
    ["swarm.defaultAddrPool", swarm.pool],
  ];
  return named.flatMap(([key, cidr]) => (cidr ? [{ key: K(key), text: formatCidr(cidr), cidr }] : []));
}

interface WorkloadContext {
  hostKind: HostKind;
  /** lab:images.workload: the image of every workload without one of its own. */
  defaultImage: string;
  hosts: HostPlan[];
  networks: NetworkPlan[];
  /** Network (or network@host for macvlan) -> the next address offset to try. */
  nextIp: Map<string, number>;
}

function readWorkloads(
  p: Problems,
  value: unknown,
  hostKind: HostKind,
  hosts: HostPlan[],
  networks: NetworkPlan[],
  defaultImage: string,
): WorkloadPlan[] {
  const names = new Set<string>();
  const ctx: WorkloadContext = { hostKind, defaultImage, hosts, networks, nextIp: new Map() };
  return list<WorkloadInput>(p, "workloads", value, DEFAULTS.workloads).map((wRaw, i) => readWorkload(p, wRaw, i, ctx, names));
}

function readWorkload(p: Problems, wRaw: unknown, i: number, ctx: WorkloadContext, names: Set<string>): WorkloadPlan {
  const key = `workloads[${i}]`;
  const w = section<WorkloadInput>(p, key, wRaw, WORKLOAD_KEYS);
  const name = str(p, `${key}.name`, w.name, CONTAINER_RE, `c${i + 1}`, "a container name");
  if (w.name === undefined) p.add(K(`${key}.name`), undefined, "every workload needs a name", "add name: test1 (or similar)");
  else if (names.has(name))
    p.add(K(`${key}.name`), name, "duplicate container name", "give every container a unique name (embedded DNS resolves by name)");
  names.add(name);
  const host = typeof w.host === "string" ? w.host : "";
  if (!ctx.hosts.some((h) => h.name === host)) {
    const hostNames = [...new Set(ctx.hosts.map((h) => h.name))];
    p.add(K(`${key}.host`), w.host, "unknown host", `use one of ${hostNames.join(", ") || "(no valid hosts)"}`);
  }
  const wantNets = list<string>(p, `${key}.networks`, w.networks, []);
  if (wantNets.length === 0)
    p.add(K(`${key}.networks`), w.networks, "a workload needs at least one network", "list the networks it attaches to, e.g. [ov_net1]");
  const aliases = list<string>(p, `${key}.aliases`, w.aliases, []).filter((a) => typeof a === "string");
  const attachments = attach(p, key, wantNets, host, aliases, ctx);
  const image = imageRef(p, `${key}.image`, w.image, ctx.defaultImage);
  if (ctx.hostKind === "netns") netnsBusybox(p, `${key}.image`, w.image);
  return {
    name,
    hostname: typeof w.hostname === "string" ? w.hostname : name,
    host,
    image,
    attachments,
  };
}

/** One attachment per named network, each with the next static address of that network (on that host, for macvlan). */
function attach(
  p: Problems,
  key: string,
  wantNets: string[],
  host: string,
  aliases: string[],
  ctx: WorkloadContext,
): WorkloadPlan["attachments"] {
  const attachments: WorkloadPlan["attachments"] = [];
  wantNets.forEach((netName, j) => {
    const net = ctx.networks.find((nn) => nn.name === netName);
    if (!net) {
      p.add(
        K(`${key}.networks[${j}]`),
        netName,
        "unknown network",
        `use one of ${ctx.networks.map((nn) => nn.name).join(", ") || "(no valid networks)"}`,
      );
      return;
    }
    attachments.push({ network: net.name, ipv4: allocate(p, key, net, host, ctx.nextIp), aliases });
  });
  return attachments;
}

function readVerification(p: Problems, value: unknown, kv: KvPlan | undefined, underlay: Underlay): LabPlan["verification"] {
  const v = section<VerificationInput>(p, "verification", value, VERIFICATION_KEYS);
  const defaultTarget = kv?.address ?? (underlay.gatewayIp !== undefined ? formatIp(underlay.gatewayIp) : "");
  const extIp = v.externalTarget === undefined ? undefined : labIp(p, "verification.externalTarget", v.externalTarget);
  return {
    enabled: typeof v.enabled === "boolean" ? v.enabled : DEFAULTS.verification.enabled,
    externalTarget: extIp !== undefined ? formatIp(extIp) : defaultTarget,
    timeoutSeconds: int(p, "verification.timeoutSeconds", v.timeoutSeconds, 5, 600, DEFAULTS.verification.timeoutSeconds),
    settleSeconds: int(p, "verification.settleSeconds", v.settleSeconds, 0, 600, DEFAULTS.verification.settleSeconds),
  };
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
      p.add(
        b.key,
        b.text,
        `overlaps ${a.key} (${a.text})`,
        "choose disjoint blocks (a macvlan network may reuse the underlay subnet exactly)",
      );
    }
  }
}

interface HostRange {
  host: string;
  ipRange: string;
  cidr: Cidr;
  /** The key the range comes from, as problems name it. */
  key: string;
}

/** One --ip-range per host: macvlan IPAM is per host, so each host hands out addresses from its own part. */
function macvlanRanges(
  p: Problems,
  key: string,
  n: NetworkInput,
  subnet: Cidr,
  hosts: HostPlan[],
  reserved: Map<number, string>,
  underlay: Cidr | undefined,
): { host: string; ipRange: string }[] {
  const ranges =
    n.ipRanges !== undefined ? givenRanges(p, key, n.ipRanges, hosts) : partitionedRanges(p, key, n.ipRangePool, subnet, hosts);
  checkRanges(p, ranges, subnet, reserved, underlay);
  return ranges.map(({ host, ipRange }) => ({ host, ipRange }));
}

/** ipRanges as written: a map host name -> block, which must name every host and only hosts. */
function givenRanges(p: Problems, key: string, value: unknown, hosts: HostPlan[]): HostRange[] {
  const ranges: HostRange[] = [];
  // A map, not a schema object: its keys are host names, checked against the hosts below.
  const given = obj<Record<string, unknown>>(p, `${key}.ipRanges`, value);
  for (const [hostName, text] of Object.entries(given)) {
    const rkey = `${key}.ipRanges.${hostName}`;
    if (!hosts.some((h) => h.name === hostName)) p.add(K(rkey), text, "no such host", `use one of ${hosts.map((h) => h.name).join(", ")}`);
    const c = labCidr(p, rkey, text);
    if (c) ranges.push({ host: hostName, ipRange: formatCidr(c), cidr: c, key: K(rkey) });
  }
  for (const h of hosts) {
    if (!(h.name in given))
      p.add(
        K(`${key}.ipRanges.${h.name}`),
        undefined,
        "every host needs a macvlan ip-range",
        "add a range for this host or drop ipRanges to partition automatically",
      );
  }
  return ranges;
}

/** ipRangePool (default: the subnet's upper half) split into equal parts, one per host in order. */
function partitionedRanges(p: Problems, key: string, poolValue: string | undefined, subnet: Cidr, hosts: HostPlan[]): HostRange[] {
  const poolText = poolValue ?? formatCidr({ base: subnet.base + size(subnet) / 2, prefix: subnet.prefix + 1 });
  const pool = labCidr(p, `${key}.ipRangePool`, poolText);
  if (!pool) return [];
  const parts = split(pool, hosts.length);
  if (parts.length < hosts.length || (parts[0] && size(parts[0]) < 4)) {
    p.add(K(`${key}.ipRangePool`), poolText, `too small to give each of ${hosts.length} hosts its own range`, "use a larger ipRangePool");
    return [];
  }
  return hosts.map((h, i) => {
    const c = parts[i]!;
    return { host: h.name, ipRange: formatCidr(c), cidr: c, key: `${K(`${key}.ipRangePool`)} (${h.name}'s part)` };
  });
}

function checkRanges(p: Problems, ranges: HostRange[], subnet: Cidr, reserved: Map<number, string>, underlay: Cidr | undefined): void {
  for (const r of ranges) {
    if (!containsCidr(subnet, r.cidr)) {
      p.add(r.key, r.ipRange, `outside the macvlan subnet ${formatCidr(subnet)}`, "choose a range inside the network's subnet");
    }
    // Addresses of hosts, gateway and KV live on the underlay; a macvlan child must never take one.
    if (underlay && overlaps(underlay, r.cidr)) {
      const taken = [...reserved].filter(([ip]) => contains(r.cidr, ip)).map(([ip, owner]) => `${formatIp(ip)}, used by ${owner}`);
      if (taken.length > 0)
        p.add(r.key, r.ipRange, `contains ${taken.join("; ")}`, "move the range (or those addresses) so they do not meet");
    }
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      if (overlaps(ranges[i]!.cidr, ranges[j]!.cidr)) {
        p.add(
          ranges[j]!.key,
          ranges[j]!.ipRange,
          `overlaps ${ranges[i]!.host}'s range ${ranges[i]!.ipRange} (macvlan IPAM is per host, both would hand out the same addresses)`,
          "give every host a disjoint ip-range",
        );
      }
    }
  }
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
      const holds =
        net.driver === "macvlan"
          ? `${host}'s range ${formatCidr(block)}`
          : swarmRange
            ? `the static half ${formatCidr(block)} of ${net.subnet} (swarm allocates from ${net.ipRange})`
            : `subnet ${net.subnet}`;
      p.add(
        K(`${key}.networks`),
        net.name,
        `more containers than ${holds} holds (${usableHosts(block)} addresses)`,
        "use a larger subnet/range or fewer containers",
      );
      next.set(slot, offset);
      return "";
    }
    // Skip the network and broadcast addresses and the gateway.
    if (ip === subnet.base || ip === lastAddress(subnet) || ip === gw) continue;
    next.set(slot, offset);
    return formatIp(ip);
  }
}
