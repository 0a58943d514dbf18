// What the planning stages hand each other: the lab's identity and the blocks and addresses already
// resolved (the underlay's reserved addresses, the bridges, swarm's pool, the netns paths).
import type { Cidr } from "../ip.js";
import type { NetnsLabPaths } from "../netns.js";
import type { HostKind, OverlayMode } from "../types.js";

export interface NamedBlock {
  key: string;
  text: string;
  cidr: Cidr;
  /** Blocks allowed to equal this one exactly (macvlan sharing the underlay's L2 segment). */
  sharesWith?: string;
}

/** What every stage depends on: the lab's name, its host kind and its overlay mode. */
export interface Lab {
  name: string;
  hostKind: HostKind;
  overlayMode: OverlayMode;
}

export interface Underlay {
  cidr: Cidr | undefined;
  gatewayIp: number | undefined;
  iface: string;
  /**
   * Underlay addresses already taken -> the key that took them. The stages that put something on the
   * underlay (gateway, KV store, hosts) add theirs in that order; macvlan ranges must avoid them all.
   */
  reserved: Map<number, string>;
}

export interface Bridge {
  bipBase: Cidr | undefined;
  addrPool: Cidr | undefined;
  poolSize: number;
}

export interface Swarm {
  pool: Cidr | undefined;
  maskLength: number;
}

export interface Netns {
  /** Only on netns labs. */
  paths: NetnsLabPaths | undefined;
  stateRoot: string;
}
