// What the lab tools need from a Docker host (the DockerEngine interface the verifier, inspect and trace
// are written against; tests substitute fakes), and the subset of the Engine API's JSON they read.

export class EngineError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

// ---- The subset of the API's JSON the verifier reads ----------------------------------------------

export interface EndpointSettings {
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  MacAddress?: string;
  Aliases?: string[] | null;
}

/**
 * An inspect answer for a container *name*: undefined unless the container has that name. Docker falls
 * back to an ID prefix when no container has the name, and lab names like c10 are hex.
 */
export function namedContainer<T extends { Name: string }>(info: T | undefined, name: string): T | undefined {
  return info && info.Name === `/${name}` ? info : undefined;
}

export interface ContainerInfo {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; ExitCode?: number; Pid?: number };
  Config?: { Hostname?: string; Image?: string };
  NetworkSettings: {
    SandboxID?: string;
    SandboxKey?: string;
    Networks?: Record<string, EndpointSettings>;
  };
}

export interface NetworkInfo {
  Name: string;
  Id: string;
  Driver: string;
  Scope?: string;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null };
  Options?: Record<string, string> | null;
  Containers?: Record<string, { Name?: string; EndpointID?: string; MacAddress?: string; IPv4Address?: string }> | null;
}

/** The subset of GET /info that `npm run inspect` reads (daemon mode: cluster store or swarm). */
export interface EngineInfo {
  Name?: string;
  ServerVersion?: string;
  ClusterStore?: string;
  ClusterAdvertise?: string;
  Swarm?: { LocalNodeState?: string; NodeID?: string; ControlAvailable?: boolean } | null;
  Containers?: number;
  ContainersRunning?: number;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Per-call timeout (default 15 s). */
  timeoutMs?: number;
}

export interface HelperSpec {
  image: string;
  cmd: string[];
  name?: string;
  labels?: Record<string, string>;
  networkMode?: string;
  pidMode?: string;
  capAdd?: string[];
  /** e.g. apparmor=unconfined: the daemon-netns helper reads another process's namespaces (ptrace read). */
  securityOpt?: string[];
  binds?: string[];
  autoRemove?: boolean;
}

/** What the checks need from a Docker host. The real client below; tests substitute a fake. */
export interface DockerEngine {
  readonly endpoint: string;
  ping(o?: CallOptions): Promise<void>;
  version(o?: CallOptions): Promise<{ Version: string; ApiVersion: string }>;
  /** undefined when the container does not exist. */
  inspectContainer(nameOrId: string, o?: CallOptions): Promise<ContainerInfo | undefined>;
  /** undefined when the network does not exist. */
  inspectNetwork(nameOrId: string, o?: CallOptions): Promise<NetworkInfo | undefined>;
  listNetworks(o?: CallOptions): Promise<NetworkInfo[]>;
  exec(container: string, cmd: string[], o?: CallOptions): Promise<ExecResult>;
  createContainer(spec: HelperSpec, o?: CallOptions): Promise<string>;
  startContainer(id: string, o?: CallOptions): Promise<void>;
  /** Force-removes; a container that is already gone is not an error. */
  removeContainer(id: string, o?: CallOptions): Promise<void>;
  close(): void;
}
