// The client side of a dind lab's TLS: the files the stack writes for the lab tools and the docker CLI
// (DOCKER_CERT_PATH's ca.pem, cert.pem, key.pem), readable by their owner only.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type LabPlan, TLS_CLIENT_FILES } from "../model/index.js";
import { parseEndpoint } from "./endpoint.js";

/** What a client presents and trusts: PEM text. */
export interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
}

export class TlsMaterialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TlsMaterialError";
  }
}

/** The client's files in `dir`; a missing one is an error that says where they come from. */
export function readClientTls(dir: string): TlsMaterial {
  const read = (f: string): string => {
    try {
      return readFileSync(join(dir, f), "utf8");
    } catch (e) {
      throw new TlsMaterialError(
        `no TLS client material at ${join(dir, f)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): ` +
          "the dind hosts' APIs need the lab's client certificate, which `npm run up` writes there. " +
          "Run the tool from the project directory of the stack that made the lab (or `npm run up` again if the lab is up but the files were removed)",
      );
    }
  };
  return { ca: read(TLS_CLIENT_FILES.ca), cert: read(TLS_CLIENT_FILES.cert), key: read(TLS_CLIENT_FILES.key) };
}

/** Writes the client's files: the directory 0700, each file 0600 (written aside, then renamed into place). */
export function writeClientTls(dir: string, m: TlsMaterial): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const files: [string, string][] = [
    [TLS_CLIENT_FILES.ca, m.ca],
    [TLS_CLIENT_FILES.cert, m.cert],
    [TLS_CLIENT_FILES.key, m.key],
  ];
  for (const [name, text] of files) {
    const tmp = join(dir, `.${name}.${process.pid}`);
    writeFileSync(tmp, text, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, join(dir, name));
  }
}

/** Removes the client's files, and the directory once nothing else is in it. */
export function removeClientTls(dir: string): void {
  for (const f of Object.values(TLS_CLIENT_FILES)) rmSync(join(dir, f), { force: true });
  if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
}

/**
 * The client material a lab's tools present: a dind lab's (the files the stack wrote for it) when a
 * host is reached over tcp, i.e. through its published port; nothing for sockets and ssh.
 */
export function labClientTls(plan: LabPlan, endpoints: ReadonlyMap<string, string>): TlsMaterial | undefined {
  if (!plan.tls) return undefined;
  if (![...endpoints.values()].some((e) => parseEndpoint(e).kind === "tcp")) return undefined;
  return readClientTls(plan.tls.clientDir);
}
