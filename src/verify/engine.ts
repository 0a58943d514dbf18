// A small Docker Engine API client for the verifier: only the calls it needs, over a unix socket, TCP,
// or ssh (`ssh ... docker system dial-stdio`, exactly how the docker CLI reaches ssh:// hosts).
//
// Hand-written on node:http rather than dockerode: the verifier needs a handful of endpoints, per-call
// timeouts through AbortSignal, and an ssh transport built on the system `ssh` (the user's own config,
// agent and known_hosts) instead of dockerode's ssh2 re-implementation; no dependency does that better.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import http from "node:http";
import { Duplex } from "node:stream";

/** Docker 20.10's API version; newer daemons (down to their minimum, 1.24) accept it as well. */
export const API_VERSION = "v1.41";
const DEFAULT_CALL_TIMEOUT_MS = 15_000;

export type Endpoint =
  | { kind: "unix"; socketPath: string; text: string }
  | { kind: "tcp"; host: string; port: number; text: string }
  | { kind: "ssh"; user: string; host: string; port: number; text: string };

export class EndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EndpointError";
  }
}

/** unix:///path, tcp://host:port, ssh://user@host[:port]; anything else is a usage error. */
export function parseEndpoint(text: string): Endpoint {
  const fix = "use unix:///path/to/docker.sock, tcp://127.0.0.1:2375 or ssh://user@host:22";
  if (text.startsWith("unix://")) {
    const socketPath = text.slice("unix://".length);
    if (!socketPath.startsWith("/"))
      throw new EndpointError(`endpoint ${JSON.stringify(text)}: a unix socket path must be absolute; ${fix}`);
    return { kind: "unix", socketPath, text };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EndpointError(`endpoint ${JSON.stringify(text)} is not a URL; ${fix}`);
  }
  if (url.protocol === "tcp:" || url.protocol === "http:") {
    const port = Number(url.port || "2375");
    if (!url.hostname) throw new EndpointError(`endpoint ${JSON.stringify(text)} has no host; ${fix}`);
    return { kind: "tcp", host: url.hostname, port, text };
  }
  if (url.protocol === "ssh:") {
    if (!url.username || !url.hostname) throw new EndpointError(`endpoint ${JSON.stringify(text)} needs user@host; ${fix}`);
    return { kind: "ssh", user: decodeURIComponent(url.username), host: url.hostname, port: Number(url.port || "22"), text };
  }
  throw new EndpointError(`endpoint ${JSON.stringify(text)}: unsupported scheme ${url.protocol}; ${fix}`);
}

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
  /** Waits until the container stops; returns its exit code. */
  waitContainer(id: string, o?: CallOptions): Promise<number>;
  containerLogs(id: string, o?: CallOptions): Promise<{ stdout: string; stderr: string }>;
  killContainer(id: string, o?: CallOptions): Promise<void>;
  /** Force-removes; a container that is already gone is not an error. */
  removeContainer(id: string, o?: CallOptions): Promise<void>;
  close(): void;
}

// ---- Multiplexed stdout/stderr (Tty false) ------------------------------------------------------

/**
 * Splits Docker's multiplexed stream: frames of [stream(1) 0 0 0 size(4, big endian)] + payload,
 * stream 1 = stdout, 2 = stderr (0 = stdin, written to stdout like the CLI does).
 * A trailing incomplete frame is kept as stdout so that nothing is silently lost.
 */
export function demux(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const stream = buf[i]!;
    const size = buf.readUInt32BE(i + 4);
    if (stream > 2 || buf[i + 1] !== 0 || buf[i + 2] !== 0 || buf[i + 3] !== 0) break; // not a frame header
    const payload = buf.subarray(i + 8, Math.min(buf.length, i + 8 + size));
    (stream === 2 ? err : out).push(payload);
    i += 8 + size;
  }
  if (i < buf.length) out.push(buf.subarray(i));
  return { stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

// ---- Transports ---------------------------------------------------------------------------------

export interface SshOptions {
  /** The ssh client binary (default "ssh"); tests point it at a stand-in. */
  command?: string;
  identityFile?: string;
  extraArgs?: string[];
}

/** `ssh` argv for a dial-stdio session, as the docker CLI builds it. */
export function sshArgs(e: Extract<Endpoint, { kind: "ssh" }>, o: SshOptions = {}): string[] {
  const args = ["-p", String(e.port)];
  if (o.identityFile) args.push("-i", o.identityFile);
  args.push("-o", "BatchMode=yes", ...(o.extraArgs ?? []), "--", `${e.user}@${e.host}`, "docker", "system", "dial-stdio");
  return args;
}

/** A child's stdin/stdout as a socket-like duplex that node:http can speak HTTP over. */
class ChildSocket extends Duplex {
  private stderr = "";
  private readonly childClosed: Promise<number | null>;
  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    super();
    this.childClosed = new Promise((resolve) => child.on("close", (code) => resolve(code)));
    child.stdout.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout.pause();
    });
    // EOF from ssh: a clean end of the stream, or ssh failing (report its exit and stderr, not a hang-up).
    child.stdout.on("end", () => {
      void this.childClosed.then((code) => {
        if (code !== 0 && code !== null) this.destroy(this.exitError(code));
        else this.push(null);
      });
    });
    child.stderr.on("data", (c: Buffer) => {
      this.stderr = (this.stderr + c.toString("utf8")).slice(-2000);
    });
    child.stdin.on("error", () => undefined); // EPIPE: reported through _write / the exit below
    child.on("error", (e) => this.destroy(e));
  }
  private exitError(code: number | null): Error {
    return new Error(`ssh exited with ${code}${this.stderr ? `: ${this.stderr.trim()}` : ""}`);
  }
  override _read(): void {
    this.child.stdout.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.child.stdin.write(chunk, (err) => {
      if (!err) return cb();
      // ssh is gone (bad host, refused, auth): say what ssh said rather than EPIPE.
      void this.childClosed.then((code) => cb(code !== 0 && code !== null ? this.exitError(code) : err));
    });
  }
  override _final(cb: (e?: Error | null) => void): void {
    this.child.stdin.end(cb);
  }
  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
    cb(err);
  }
  // node:http treats its transport as a net.Socket; these are the calls it makes on one.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

class SshAgent extends http.Agent {
  constructor(
    private readonly e: Extract<Endpoint, { kind: "ssh" }>,
    private readonly o: SshOptions,
  ) {
    super({ keepAlive: true, maxSockets: 16 });
  }
  override createConnection(): Duplex {
    const child = spawn(this.o.command ?? "ssh", sshArgs(this.e, this.o), { stdio: ["pipe", "pipe", "pipe"] });
    return new ChildSocket(child);
  }
}

// ---- The client -----------------------------------------------------------------------------------

interface RawResponse {
  status: number;
  body: Buffer;
}

function withTimeout(o: CallOptions | undefined): { signal: AbortSignal; timeoutMs: number } {
  const timeoutMs = o?.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const t = AbortSignal.timeout(timeoutMs);
  return { signal: o?.signal ? AbortSignal.any([o.signal, t]) : t, timeoutMs };
}

function apiMessage(body: Buffer): string {
  const text = body.toString("utf8").trim();
  try {
    const j = JSON.parse(text) as { message?: unknown };
    if (typeof j.message === "string") return j.message;
  } catch {
    /* not JSON */
  }
  return text.slice(0, 300);
}

export class HttpDockerEngine implements DockerEngine {
  readonly endpoint: string;
  private readonly agent: http.Agent;
  private readonly target: http.RequestOptions;

  constructor(endpoint: string | Endpoint, ssh: SshOptions = {}) {
    const e = typeof endpoint === "string" ? parseEndpoint(endpoint) : endpoint;
    this.endpoint = e.text;
    if (e.kind === "ssh") {
      this.agent = new SshAgent(e, ssh);
      this.target = { host: "docker", port: 80 };
    } else {
      this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
      this.target = e.kind === "unix" ? { socketPath: e.socketPath } : { host: e.host, port: e.port };
    }
  }

  private request(method: string, path: string, body: unknown, o: CallOptions | undefined): Promise<RawResponse> {
    const { signal, timeoutMs } = withTimeout(o);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<RawResponse>((resolve, reject) => {
      if (signal.aborted) {
        reject(this.abortError(method, path, signal, timeoutMs));
        return;
      }
      const req = http.request({
        ...this.target,
        agent: this.agent,
        method,
        path: `/${API_VERSION}${path}`,
        headers: payload ? { "Content-Type": "application/json", "Content-Length": payload.length } : {},
      });
      const onAbort = (): void => {
        req.destroy(this.abortError(method, path, signal, timeoutMs));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          signal.removeEventListener("abort", onAbort);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
        });
        res.on("error", (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        });
        res.on("aborted", () => {
          signal.removeEventListener("abort", onAbort);
          reject(this.abortError(method, path, signal, timeoutMs));
        });
      });
      req.on("error", (e: NodeJS.ErrnoException) => {
        signal.removeEventListener("abort", onAbort);
        if (e instanceof EngineError) reject(e);
        else reject(new EngineError(`${this.endpoint}: ${method} ${path}: ${e.code ? `${e.code} ` : ""}${e.message}`));
      });
      req.end(payload);
    });
  }

  private abortError(method: string, path: string, signal: AbortSignal, timeoutMs: number): EngineError {
    const reason: unknown = signal.reason;
    const timedOut = reason instanceof DOMException && reason.name === "TimeoutError";
    return new EngineError(
      timedOut ? `${this.endpoint}: ${method} ${path} timed out after ${timeoutMs} ms` : `${this.endpoint}: ${method} ${path} aborted`,
    );
  }

  private async json<T>(
    method: string,
    path: string,
    body: unknown,
    o: CallOptions | undefined,
    okStatus: number[] = [200, 201],
  ): Promise<T> {
    const r = await this.request(method, path, body, o);
    if (!okStatus.includes(r.status))
      throw new EngineError(`${this.endpoint}: ${method} ${path}: HTTP ${r.status}: ${apiMessage(r.body)}`, r.status);
    return (r.body.length ? JSON.parse(r.body.toString("utf8")) : {}) as T;
  }

  private async maybe<T>(path: string, o: CallOptions | undefined): Promise<T | undefined> {
    const r = await this.request("GET", path, undefined, o);
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new EngineError(`${this.endpoint}: GET ${path}: HTTP ${r.status}: ${apiMessage(r.body)}`, r.status);
    return JSON.parse(r.body.toString("utf8")) as T;
  }

  async ping(o?: CallOptions): Promise<void> {
    const r = await this.request("GET", "/_ping", undefined, o);
    if (r.status !== 200) throw new EngineError(`${this.endpoint}: GET /_ping: HTTP ${r.status}`, r.status);
  }

  version(o?: CallOptions): Promise<{ Version: string; ApiVersion: string }> {
    return this.json("GET", "/version", undefined, o);
  }

  /** GET /info (used by inspect; not part of DockerEngine, so the verifier's fakes need not provide it). */
  info(o?: CallOptions): Promise<EngineInfo> {
    return this.json("GET", "/info", undefined, o);
  }

  inspectContainer(nameOrId: string, o?: CallOptions): Promise<ContainerInfo | undefined> {
    return this.maybe(`/containers/${encodeURIComponent(nameOrId)}/json`, o);
  }

  inspectNetwork(nameOrId: string, o?: CallOptions): Promise<NetworkInfo | undefined> {
    return this.maybe(`/networks/${encodeURIComponent(nameOrId)}`, o);
  }

  listNetworks(o?: CallOptions): Promise<NetworkInfo[]> {
    return this.json("GET", "/networks", undefined, o);
  }

  async exec(container: string, cmd: string[], o?: CallOptions): Promise<ExecResult> {
    const created = await this.json<{ Id: string }>(
      "POST",
      `/containers/${encodeURIComponent(container)}/exec`,
      { AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, Cmd: cmd },
      o,
    );
    // Without Tty the daemon hijacks the connection and streams multiplexed frames until the process
    // ends, then closes it: the response body is the whole output.
    const started = await this.request("POST", `/exec/${created.Id}/start`, { Detach: false, Tty: false }, o);
    if (started.status !== 200 && started.status !== 101) {
      throw new EngineError(`${this.endpoint}: exec ${cmd.join(" ")}: HTTP ${started.status}: ${apiMessage(started.body)}`, started.status);
    }
    const { stdout, stderr } = demux(started.body);
    // The exit code is recorded a moment after the stream closes.
    for (let i = 0; ; i++) {
      const info = await this.json<{ Running: boolean; ExitCode: number | null }>("GET", `/exec/${created.Id}/json`, undefined, o);
      if (!info.Running && info.ExitCode !== null) return { exitCode: info.ExitCode, stdout, stderr };
      if (i >= 50) throw new EngineError(`${this.endpoint}: exec ${cmd.join(" ")}: no exit code after the output ended`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async createContainer(spec: HelperSpec, o?: CallOptions): Promise<string> {
    const q = spec.name ? `?name=${encodeURIComponent(spec.name)}` : "";
    const r = await this.json<{ Id: string }>(
      "POST",
      `/containers/create${q}`,
      {
        Image: spec.image,
        Cmd: spec.cmd,
        Labels: spec.labels ?? {},
        Tty: false,
        AttachStdout: true,
        AttachStderr: true,
        HostConfig: {
          NetworkMode: spec.networkMode ?? "default",
          ...(spec.pidMode ? { PidMode: spec.pidMode } : {}),
          CapAdd: spec.capAdd ?? [],
          Binds: spec.binds ?? [],
          AutoRemove: spec.autoRemove ?? false,
        },
      },
      o,
    );
    return r.Id;
  }

  async startContainer(id: string, o?: CallOptions): Promise<void> {
    await this.json("POST", `/containers/${encodeURIComponent(id)}/start`, undefined, o, [204, 304]);
  }

  async waitContainer(id: string, o?: CallOptions): Promise<number> {
    const r = await this.json<{ StatusCode: number }>("POST", `/containers/${encodeURIComponent(id)}/wait`, undefined, o);
    return r.StatusCode;
  }

  async containerLogs(id: string, o?: CallOptions): Promise<{ stdout: string; stderr: string }> {
    const r = await this.request("GET", `/containers/${encodeURIComponent(id)}/logs?stdout=1&stderr=1`, undefined, o);
    if (r.status !== 200) throw new EngineError(`${this.endpoint}: logs ${id}: HTTP ${r.status}: ${apiMessage(r.body)}`, r.status);
    return demux(r.body);
  }

  async killContainer(id: string, o?: CallOptions): Promise<void> {
    // 404: gone already; 409: not running.
    await this.json("POST", `/containers/${encodeURIComponent(id)}/kill`, undefined, o, [204, 404, 409]);
  }

  async removeContainer(id: string, o?: CallOptions): Promise<void> {
    // 404: gone already; 409: AutoRemove is removing it right now.
    await this.json("DELETE", `/containers/${encodeURIComponent(id)}?force=1&v=1`, undefined, o, [204, 404, 409]);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs a short-lived container to completion and returns its output (create, start, wait, logs, remove). */
export async function runOnce(engine: DockerEngine, spec: HelperSpec, o?: CallOptions): Promise<ExecResult> {
  const id = await engine.createContainer({ ...spec, autoRemove: false }, o);
  try {
    await engine.startContainer(id, o);
    const exitCode = await engine.waitContainer(id, o);
    const { stdout, stderr } = await engine.containerLogs(id, o);
    return { exitCode, stdout, stderr };
  } finally {
    await engine.removeContainer(id, { timeoutMs: 10_000 }).catch(() => undefined);
  }
}
