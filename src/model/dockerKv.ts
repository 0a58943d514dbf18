// How the classic overlay's daemons use the KV store, read back from its entries. The layout, as
// Docker 20.10 (libnetwork + libkv) really writes it into Consul (captured in a real netns lab; see
// tests/unit/fixtures/docker-kv-consul.json). Consul keys of libnetwork objects end in "/", etcd's
// and ZooKeeper's (read by dockerKvEntriesFromZookeeper) do not; both are accepted:
//   docker/nodes/<advertise ip:port>                          value: the same address (discovery)
//   docker/network/v1.0/network/<network id>/                 value: the network's JSON (name, networkType, scope ...)
//   docker/network/v1.0/overlay/network/<network id>/         value: {"subnets":[{"SubnetIP","GwIP","Vni"}]}
//   docker/network/v1.0/endpoint/<network id>/<endpoint id>/  value: the endpoint's JSON (name, ep_iface.addr, locator = host)
//   docker/network/v1.0/endpoint_count/<network id>/          value: {"Count":N}
//   docker/network/v1.0/{idm,ipam}/...                        bitmaps of VNIs and addresses (not summarized)
// Folder entries (a key ending in "/" with no value) carry nothing and are ignored.
import { bytesFromOdHex, parseZkSession, ZK_NO_NODE, type ZkRequest, zkPath, zkSessionCommand } from "./zookeeper.js";

export interface DockerKvEntry {
  key: string;
  value: string;
}

export interface DockerKvNetwork {
  id: string;
  name?: string;
  /** networkType: "overlay" for the classic overlay. */
  type?: string;
  /** From the overlay driver's own record. */
  subnets?: string[];
  vni?: number[];
  /** Endpoints the store counts for this network (endpoint_count). */
  endpointCount?: number;
}

export interface DockerKvEndpoint {
  network: string;
  id: string;
  /** The container's name on the network. */
  name?: string;
  /** Its address on the network, with prefix (ep_iface.addr), e.g. 198.18.100.2/24. */
  address?: string;
  /** The underlay address of the host the container runs on (libnetwork's "locator"). */
  host?: string;
}

export interface DockerKvSummary {
  /** Advertise addresses (ip:port) of the registered daemons, sorted. */
  nodes: string[];
  /** Global-scope networks held in the store, sorted by name. */
  networks: DockerKvNetwork[];
  /** Endpoints (containers attached to global networks), sorted by network then name. */
  endpoints: DockerKvEndpoint[];
}

const ID = "([0-9a-zA-Z_.-]+)";
const NODE = /^docker\/nodes\/([^/]+)\/?$/;
const NETWORK = new RegExp(`^docker/network/v1\\.0/network/${ID}/?$`);
const OVERLAY = new RegExp(`^docker/network/v1\\.0/overlay/network/${ID}/?$`);
const ENDPOINT = new RegExp(`^docker/network/v1\\.0/endpoint/${ID}/${ID}/?$`);
const ENDPOINT_COUNT = new RegExp(`^docker/network/v1\\.0/endpoint_count/${ID}/?$`);

export function summarizeDockerKv(entries: readonly DockerKvEntry[]): DockerKvSummary {
  const nodes = new Set<string>();
  const networks = new Map<string, DockerKvNetwork>();
  const overlays = new Map<string, { subnets: string[]; vni: number[] }>();
  const counts = new Map<string, number>();
  const endpoints: DockerKvEndpoint[] = [];
  // One reader per kind of key Docker writes; a key matches at most one of them.
  const readers: [RegExp, (m: RegExpExecArray, value: string) => void][] = [
    [NODE, (m) => nodes.add(m[1]!)],
    [
      NETWORK,
      (m, value) => {
        const doc = parseJson(value);
        const name = str(doc?.["name"]);
        const type = str(doc?.["networkType"]);
        networks.set(m[1]!, { id: m[1]!, ...(name ? { name } : {}), ...(type ? { type } : {}) });
      },
    ],
    [
      OVERLAY,
      (m, value) => {
        const subnets = parseJson(value)?.["subnets"];
        const list = Array.isArray(subnets) ? subnets.filter(isRecord) : [];
        overlays.set(m[1]!, {
          subnets: list.map((s) => str(s["SubnetIP"])).filter((s): s is string => s !== undefined),
          vni: list.map((s) => s["Vni"]).filter((v): v is number => typeof v === "number"),
        });
      },
    ],
    [
      ENDPOINT_COUNT,
      (m, value) => {
        const count = parseJson(value)?.["Count"];
        if (typeof count === "number") counts.set(m[1]!, count);
      },
    ],
    [
      ENDPOINT,
      (m, value) => {
        const doc = parseJson(value);
        if (doc === undefined) return;
        const iface = doc["ep_iface"];
        const name = str(doc["name"]);
        const address = isRecord(iface) ? str(iface["addr"]) : undefined;
        const host = str(doc["locator"]);
        endpoints.push({
          network: m[1]!,
          id: m[2]!,
          ...(name ? { name } : {}),
          ...(address ? { address } : {}),
          ...(host ? { host } : {}),
        });
      },
    ],
  ];
  for (const { key, value } of entries) {
    const k = key.replace(/^\/+/, "");
    for (const [re, read] of readers) {
      const m = re.exec(k);
      if (m) {
        read(m, value);
        break;
      }
    }
  }
  for (const [id, net] of networks) {
    const o = overlays.get(id);
    if (o && o.subnets.length > 0) net.subnets = o.subnets;
    if (o && o.vni.length > 0) net.vni = o.vni;
    const c = counts.get(id);
    if (c !== undefined) net.endpointCount = c;
  }
  return {
    nodes: [...nodes].sort(),
    networks: [...networks.values()].sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id)),
    endpoints: endpoints.sort((a, b) => a.network.localeCompare(b.network) || (a.name ?? a.id).localeCompare(b.name ?? b.id)),
  };
}

/**
 * Consul's answer to GET /v1/kv/<prefix>?recurse (a JSON array of {Key, Value: base64 | null, ...})
 * as entries for summarizeDockerKv. Throws on anything that is not that shape: a wrong URL or a
 * proxy's error page must not read as "Docker wrote nothing".
 */
/** Internal. Exported for testing (the real-lab tests read Consul's HTTP API with it). */
export function dockerKvEntriesFromConsul(body: unknown): DockerKvEntry[] {
  if (!Array.isArray(body)) throw new Error(`Consul KV answer: expected a JSON array of {Key, Value}, got ${typeof body}`);
  return body.map((e: unknown, i): DockerKvEntry => {
    if (!isRecord(e) || typeof e["Key"] !== "string") throw new Error(`Consul KV answer: item ${i} has no string Key`);
    const v = e["Value"];
    if (v !== null && v !== undefined && typeof v !== "string")
      throw new Error(`Consul KV answer: item ${i} (${e["Key"]}) has a non-string Value`);
    return { key: e["Key"], value: typeof v === "string" ? Buffer.from(v, "base64").toString("utf8") : "" };
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The classic overlay's record of a network: its key in the store. */
export function overlayRecordKey(networkId: string): string {
  return `docker/network/v1.0/overlay/network/${networkId}`;
}

/**
 * The URL of the classic overlay's record of a network in the KV store. Docker 20.10's libkv writes
 * Consul keys with a trailing slash (see the fixture of a real capture), and Consul matches keys
 * exactly; etcd v2 ignores it, so the record is asked for as Docker wrote it. ZooKeeper has no URL
 * (see kvRecordRead).
 */
export function kvRecordUrl(kv: { kind: string; address: string; port: number }, networkId: string): string | undefined {
  const key = overlayRecordKey(networkId);
  if (kv.kind === "consul") return `http://${kv.address}:${kv.port}/v1/kv/${key}/?raw`;
  if (kv.kind === "etcd") return `http://${kv.address}:${kv.port}/v2/keys/${key}`;
  return undefined;
}

/** How to read a network's record where the store is reachable: a busybox command and what its output holds. */
export interface KvRecordRead {
  argv: string[];
  /** The record's text (for vniFromKvRecord), or undefined when the store has none. Throws on output that is no answer. */
  record(stdout: string): string | undefined;
}

/**
 * Consul and etcd: busybox wget of kvRecordUrl. ZooKeeper: one getData over busybox nc (see
 * zookeeper.ts). Bounded by `timeout`: an unreachable store must not hold the caller.
 */
export function kvRecordRead(
  kv: { kind: string; address: string; port: number },
  networkId: string,
  timeoutSeconds: number,
): KvRecordRead | undefined {
  if (kv.kind === "zookeeper") {
    const requests: ZkRequest[] = [{ op: "getData", path: zkPath(overlayRecordKey(networkId)) }];
    return {
      argv: zkSessionCommand(kv.address, kv.port, requests, timeoutSeconds),
      record: (stdout) => parseZkSession(bytesFromOdHex(stdout), requests)[0]?.data ?? undefined,
    };
  }
  const url = kvRecordUrl(kv, networkId);
  if (!url) return undefined;
  // `timeout`, not `wget -T`: Debian's static busybox 1.35 crashes on -T.
  return { argv: ["timeout", String(timeoutSeconds), "wget", "-q", "-O", "-", url], record: (stdout) => stdout };
}

/**
 * Everything Docker wrote under docker/ in ZooKeeper, as entries for summarizeDockerKv: the tree
 * read level by level, one session per level (every node's data and children), through `exec`,
 * which runs a command where the store is reachable and returns its output. Keys come back as
 * libkv's ("docker/nodes/198.18.0.11:2376"); folder nodes carry no data and are skipped.
 */
export async function dockerKvEntriesFromZookeeper(
  kv: { address: string; port: number },
  exec: (argv: string[]) => Promise<string>,
  timeoutSeconds = 10,
): Promise<DockerKvEntry[]> {
  const entries: DockerKvEntry[] = [];
  let level = ["/docker"];
  for (let depth = 0; level.length > 0; depth++) {
    if (depth > 12) throw new Error("ZooKeeper tree under /docker deeper than 12 levels: not Docker's layout");
    const requests: ZkRequest[] = level.flatMap((path): ZkRequest[] => [
      { op: "getData", path },
      { op: "getChildren", path },
    ]);
    const replies = parseZkSession(bytesFromOdHex(await exec(zkSessionCommand(kv.address, kv.port, requests, timeoutSeconds))), requests);
    const next: string[] = [];
    for (const r of replies) {
      // A node removed between two levels is simply gone.
      if (r.err === ZK_NO_NODE) continue;
      if (r.err !== 0) throw new Error(`ZooKeeper ${r.op} ${r.path}: error ${r.err}`);
      if (r.op === "getData" && r.data) entries.push({ key: r.path.slice(1), value: r.data });
      for (const c of r.children ?? []) next.push(`${r.path}/${c}`);
    }
    level = next;
  }
  return entries;
}
