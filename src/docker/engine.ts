// A small Docker Engine API client for the lab tools: only the calls they need, over a unix socket, TCP,
// or ssh (`ssh ... docker system dial-stdio`, exactly how the docker CLI reaches ssh:// hosts).
//
// Hand-written on node:http rather than dockerode: the verifier needs a handful of endpoints, per-call
// timeouts through AbortSignal, and an ssh transport built on the system `ssh` (the user's own config,
// agent and known_hosts) instead of dockerode's ssh2 re-implementation; no dependency does that better.
import http from "node:http";
import https from "node:https";
import {
  type CallOptions,
  type ContainerInfo,
  type DockerEngine,
  type EngineInfo,
  EngineError,
  type ExecResult,
  type HelperSpec,
  type NetworkInfo,
} from "./api.js";
import { type Endpoint, parseEndpoint } from "./endpoint.js";
import type { TlsMaterial } from "./tls.js";
import { SshAgent, type SshOptions } from "./transport.js";

/** Docker 20.10's API version; newer daemons (down to their minimum, 1.24) accept it as well. */
export const API_VERSION = "v1.41";
const DEFAULT_CALL_TIMEOUT_MS = 15_000;

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
  /** https with a client certificate (tcp endpoints given TLS material), else plain HTTP on a socket or ssh. */
  private readonly send: typeof http.request;

  /** tls: for tcp endpoints, the CA the daemon's certificate must chain to and the client certificate to present. */
  constructor(endpoint: string | Endpoint, ssh: SshOptions = {}, tls?: TlsMaterial) {
    const e = typeof endpoint === "string" ? parseEndpoint(endpoint) : endpoint;
    this.endpoint = e.text;
    this.send = http.request;
    if (e.kind === "ssh") {
      this.agent = new SshAgent(e, ssh);
      this.target = { host: "docker", port: 80 };
    } else if (e.kind === "tcp" && tls) {
      // The daemon's certificate is checked against the lab's CA and the address dialed (an IP SAN).
      this.agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: tls.ca, cert: tls.cert, key: tls.key });
      this.target = { host: e.host, port: e.port };
      this.send = https.request;
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
      const req = this.send({
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
          ...(spec.securityOpt ? { SecurityOpt: spec.securityOpt } : {}),
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

  async removeContainer(id: string, o?: CallOptions): Promise<void> {
    // 404: gone already; 409: AutoRemove is removing it right now.
    await this.json("DELETE", `/containers/${encodeURIComponent(id)}?force=1&v=1`, undefined, o, [204, 404, 409]);
  }

  close(): void {
    this.agent.destroy();
  }
}
