// How the classic overlay's daemons use the KV store, read back from its entries: the nodes that
// registered (docker/nodes/<advertise addr>) and the global-scope networks
// (docker/network/v1.0/network/<id>/ whose value is the network's JSON).
export interface DockerKvEntry {
  key: string;
  value: string;
}

export interface DockerKvSummary {
  /** Advertise addresses (ip:port) of the registered daemons, sorted. */
  nodes: string[];
  /** Global-scope networks held in the store, sorted by name. */
  networks: { id: string; name?: string; type?: string }[];
}

const NODE = /^docker\/nodes\/([^/]+)\/?$/;
const NETWORK = /^docker\/network\/v1\.0\/network\/([0-9a-zA-Z_-]+)\/?$/;

export function summarizeDockerKv(entries: readonly DockerKvEntry[]): DockerKvSummary {
  const nodes = new Set<string>();
  const networks = new Map<string, { id: string; name?: string; type?: string }>();
  for (const { key, value } of entries) {
    const k = key.replace(/^\/+/, "");
    const node = NODE.exec(k);
    if (node) {
      nodes.add(node[1]!);
      continue;
    }
    const net = NETWORK.exec(k);
    if (net) {
      const id = net[1]!;
      const doc = parseJson(value);
      const name = typeof doc?.["name"] === "string" ? doc["name"] : undefined;
      const type = typeof doc?.["networkType"] === "string" ? doc["networkType"] : undefined;
      networks.set(id, { id, ...(name ? { name } : {}), ...(type ? { type } : {}) });
    }
  }
  return {
    nodes: [...nodes].sort(),
    networks: [...networks.values()].sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id)),
  };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
