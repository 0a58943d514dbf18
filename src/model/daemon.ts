// dockerd settings, computed once per host: consumed by the dind container command, the netns
// bring-up script, and the ssh hosts' systemd drop-in / daemon.json.
import { CLUSTER_ADVERTISE_PORT } from "./defaults.js";
import type { DaemonPlan, OverlayMode } from "./types.js";

export interface DaemonInputs {
  overlayMode: OverlayMode;
  bip: string;
  addressPool: { base: string; size: number };
  /** consul://198.18.0.2:8500, kv mode only. */
  clusterStore?: string;
  advertiseInterface: string;
  execRoot: string;
  pidFile: string;
}

export function daemonPlan(d: DaemonInputs): DaemonPlan {
  const pool = `base=${d.addressPool.base},size=${d.addressPool.size}`;
  const args = ["--bip", d.bip, "--default-address-pool", pool];
  const daemonJson: Record<string, unknown> = {
    bip: d.bip,
    "default-address-pools": [{ base: d.addressPool.base, size: d.addressPool.size }],
  };
  const plan: DaemonPlan = { args, daemonJson, bip: d.bip, defaultAddressPool: d.addressPool, execRoot: d.execRoot, pidFile: d.pidFile };
  // Without a store (a config error already reported) there is nothing to point the daemon at.
  if (d.overlayMode === "kv" && d.clusterStore !== undefined) {
    const advertise = `${d.advertiseInterface}:${CLUSTER_ADVERTISE_PORT}`;
    args.push(`--cluster-store=${d.clusterStore}`, `--cluster-advertise=${advertise}`);
    daemonJson["cluster-store"] = d.clusterStore;
    daemonJson["cluster-advertise"] = advertise;
    plan.clusterStore = d.clusterStore;
    plan.clusterAdvertise = advertise;
  }
  return plan;
}

/** "20.10" / "20.10.24" / "27.5.1" -> major; undefined when unreadable. */
export function dockerMajor(version: string): number | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  return m ? Number(m[1]) : undefined;
}

/** Docker 23.0 removed --cluster-store / --cluster-advertise. */
export function supportsClusterStore(version: string): boolean {
  const major = dockerMajor(version);
  return major !== undefined && major < 23;
}
