// Names and paths of a netns lab on one Linux machine. The bring-up scripts receive these values as
// arguments; they never invent a path of their own, so teardown always finds what bring-up made.
import type { NetnsHostPaths } from "./types.js";

export interface NetnsLabPaths {
  root: string;
  switchNamespace: string;
  bridge: string;
  kvNamespace: string;
}

export function netnsLabPaths(lab: string, root: string): NetnsLabPaths {
  return { root: `${root}/${lab}`, switchNamespace: `${lab}-sw`, bridge: "br0", kvNamespace: `${lab}-kv` };
}

export function netnsHostPaths(lab: NetnsLabPaths, labName: string, host: string, stateRoot: string): NetnsHostPaths {
  return {
    namespace: `${labName}-${host}`,
    stateDir: `${stateRoot}/${labName}/${host}`,
    dataRoot: `${stateRoot}/${labName}/${host}/data`,
    execRoot: `${lab.root}/${host}.exec`,
    pidFile: `${lab.root}/${host}.pid`,
    socket: `${lab.root}/${host}.sock`,
  };
}
