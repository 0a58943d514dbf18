// Who can talk to a Docker API: a probe that asks GET /_ping of host:port, plainly or over TLS (with or
// without a client certificate), run as any user (setpriv --reuid=nobody: an unprivileged local user) and
// in any network namespace (a command prefix such as scripts/images/outer-exec.sh). Plain node, passed on
// the command line: the user it runs as needs to read nothing of the checkout.
import { execFileSync } from "node:child_process";

/** The probe itself (node, ES module): argv[1] is its JSON request, stdout one line of what came back. */
const PROBE = String.raw`
import net from "node:net";
import tls from "node:tls";
const q = JSON.parse(process.argv[1]);
const done = (s) => { process.stdout.write(s.replace(/\s+/g, " ").trim().slice(0, 200) + "\n"); process.exit(0); };
setTimeout(() => done("timeout"), 5000);
const opts = q.socketPath ? { path: q.socketPath } : { host: q.host, port: q.port };
const sock = q.tls
  ? tls.connect({ ...opts, ca: q.tls.ca, cert: q.tls.cert, key: q.tls.key, rejectUnauthorized: !!q.tls.ca, servername: undefined })
  : net.connect(opts);
let got = "";
sock.on(q.tls ? "secureConnect" : "connect", () => sock.write("GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"));
sock.on("data", (d) => { got += d.toString("latin1"); });
sock.on("error", (e) => done("error: " + (e.code ?? "") + " " + e.message));
// An HTTP answer as its status line and its body (the headers are long and say nothing here).
const http = (t) => { const i = t.indexOf("\r\n\r\n"); return i < 0 ? t : t.slice(0, t.indexOf("\r\n")) + " | " + t.slice(i + 4); };
sock.on("close", () => done(got === "" ? "closed" : http(got)));
`;

export interface ProbeRequest {
  host?: string;
  port?: number;
  /** A unix socket instead of host:port. */
  socketPath?: string;
  /** TLS: the CA to check the daemon against (none: accept any), and a client certificate (none: present none). */
  tls?: { ca?: string; cert?: string; key?: string };
}

export interface ProbeOptions {
  /** Run as the unprivileged `nobody` (no groups), as any local user could. */
  asNobody?: boolean;
  /** A command prefix: where the probe runs (e.g. the outer engine's namespace). */
  under?: string[];
  /** The prefix's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** What the daemon (or whatever listens there) answered to GET /_ping, in one line; "error: ..." when nothing could talk. */
export function probeApi(q: ProbeRequest, o: ProbeOptions = {}): string {
  const nobody = o.asNobody ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] : [];
  const argv = [...(o.under ?? []), ...nobody, process.execPath, "--input-type=module", "-e", PROBE, JSON.stringify(q)];
  return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 20_000, cwd: "/", env: o.env ?? process.env }).trim();
}

/** The Docker API answered: an HTTP 200 with the body OK. */
export function apiAnswered(reply: string): boolean {
  return /^HTTP\/1\.[01] 200 .*\| OK$/.test(reply);
}
