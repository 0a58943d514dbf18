// How the client reaches a daemon over ssh: `ssh ... docker system dial-stdio`, exactly as the docker CLI
// does, with the child's stdin/stdout as the socket node:http speaks HTTP over.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import http from "node:http";
import { Duplex } from "node:stream";
import type { Endpoint } from "./endpoint.js";

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

export class SshAgent extends http.Agent {
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
