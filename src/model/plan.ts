// Config -> validated, normalized LabPlan. Every problem is collected and reported in one error
// before anything else runs, so bad config never reaches the Pulumi engine or a script.
import { planChecks } from "./checks.js";
import {
  HOST_RE,
  IFACE_RE,
  K,
  NAME_RE,
  ROOT,
  gatewayOf,
  imageRef,
  insideUsable,
  int,
  labCidr,
  labIp,
  list,
  netnsBusybox,
  oneOf,
  section,
  split24,
  str,
  unknownKeys,
} from "./planning/fields.js";
import { readExpectations } from "./planning/expectations.js";
import { readFaults } from "./planning/faults.js";
import { checkOverlaps, labBlocks, readNetworks } from "./planning/networks.js";
import type { Lab, Underlay, Bridge, Swarm, Netns } from "./planning/stage.js";
import { readWorkloads } from "./planning/workloads.js";
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
} from "./config.js";
import { daemonPlan, supportsClusterStore } from "./daemon.js";
import {
  DEFAULT_DOCKER_VERSION,
  DEFAULTS,
  DIND_API_PORT_BASE,
  DIND_CERT_DIR,
  DIND_TLS_API_PORT,
  IMAGES,
  KV_PORTS,
  KV_SCHEMES,
  TLS_CLIENT_ROOT,
} from "./defaults.js";
import { Problems } from "./errors.js";
import { dockerVersionOfImage } from "./images.js";
import { type Cidr, formatCidr, formatIp } from "./ip.js";
import { netnsHostPaths, netnsLabPaths } from "./netns.js";
import {
  FAIL_UP_ON,
  HOST_KINDS,
  type HostKind,
  type HostPlan,
  KV_KINDS,
  type KvKind,
  type KvPlan,
  type LabPlan,
  type NetnsDockerd,
  OVERLAY_MODES,
  type OverlayMode,
  type ServerCertPlan,
  type TlsPlan,
} from "./types.js";

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
  const faults = readFaults(p, input.faults, { lab, underlay, hosts, kv });
  const expectations = readExpectations(p, input.expect, {
    hosts,
    networks,
    workloads,
    externalTarget: verification.externalTarget,
  });

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
    faults,
    expectations,
    checks: { pairs: [], single: [], expectations: [] },
    verification,
    images: {
      ...(images.dind !== undefined ? { dind: images.dind } : {}),
      ...(kv && (kv.provision === "local-container" || kv.provision === "host-container") ? { kv: kv.image } : {}),
      workload: images.workload,
    },
    ...(lab.hostKind === "dind" ? { tls: tlsPlan(lab.name) } : {}),
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
  const publishUi = readPublishUi(p, kvIn.publishUi);
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
    // Only a store the lab runs on the user's engine has a port to publish; elsewhere it is on the lab's addresses.
    published: provision === "local-container" && publishUi,
    ...(onHost && typeof firstHost?.name === "string" ? { runsOn: firstHost.name } : {}),
  };
}

/**
 * lab:kv.publishUi: whether a dind lab publishes its store's API (Consul: the UI) on 127.0.0.1. Checked
 * on every kind, used by dind only (elsewhere the store is on the lab's own addresses), so one stack
 * file can switch lab:hostKind and keep it.
 */
function readPublishUi(p: Problems, value: unknown): boolean {
  if (value === undefined) return DEFAULTS.kv.publishUi;
  if (typeof value === "boolean") return value;
  p.add(
    K("kv.publishUi"),
    value,
    "must be true or false",
    "set kv.publishUi: false to keep the KV store's API off 127.0.0.1 (the lab does not need it), or true to publish it",
  );
  return DEFAULTS.kv.publishUi;
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
    // dockerd's default pidfile where the lab does not choose one (dind images, ssh hosts as they are).
    pidFile: paths ? paths.pidFile : (ssh?.docker?.pidFile ?? "/var/run/docker.pid"),
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
    ...(lab.hostKind === "dind" ? { publishedApiPort: port, tls: serverCertPlan(name, address) } : {}),
  };
}

/** A dind host's server certificate: the published port (127.0.0.1), its underlay address and its name. */
function serverCertPlan(name: string, address: string): ServerCertPlan {
  return { commonName: name, ips: ["127.0.0.1", address], dnsNames: [name, "localhost"] };
}

/** dind labs: the hosts' APIs behind TLS, with one CA per lab. */
function tlsPlan(labName: string): TlsPlan {
  return {
    clientDir: `${TLS_CLIENT_ROOT}/${labName}`,
    certDir: DIND_CERT_DIR,
    apiPort: DIND_TLS_API_PORT,
    caName: `dnlab ${labName} CA`,
    clientName: `dnlab ${labName} client`,
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

function readVerification(p: Problems, value: unknown, kv: KvPlan | undefined, underlay: Underlay): LabPlan["verification"] {
  const v = section<VerificationInput>(p, "verification", value, VERIFICATION_KEYS);
  const defaultTarget = kv?.address ?? (underlay.gatewayIp !== undefined ? formatIp(underlay.gatewayIp) : "");
  const extIp = v.externalTarget === undefined ? undefined : labIp(p, "verification.externalTarget", v.externalTarget);
  return {
    enabled: typeof v.enabled === "boolean" ? v.enabled : DEFAULTS.verification.enabled,
    externalTarget: extIp !== undefined ? formatIp(extIp) : defaultTarget,
    timeoutSeconds: int(p, "verification.timeoutSeconds", v.timeoutSeconds, 5, 600, DEFAULTS.verification.timeoutSeconds),
    settleSeconds: int(p, "verification.settleSeconds", v.settleSeconds, 0, 600, DEFAULTS.verification.settleSeconds),
    failUpOn: oneOf(p, "verification.failUpOn", v.failUpOn, FAIL_UP_ON, DEFAULTS.verification.failUpOn, "failUpOn value"),
  };
}
