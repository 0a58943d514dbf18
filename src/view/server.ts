// The live page's HTTP server, on node's own http: a fixed set of routes (the page's three static files,
// the state, one element's checks, the event stream, and the two actions: verify and trace), nothing
// served from a path a request names and nothing run that a request names. On a loopback address the
// server answers only requests addressed to it (Host header: no DNS rebinding); on any other address
// every request must carry the token the command printed (401 otherwise).
import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { TraceInputError } from "../trace/plan.js";
import { BusyError, type ViewEvents, type ViewLab } from "./lab.js";

const PAGE_DIR = new URL("./page/", import.meta.url);
const PAGE_FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};
const TOKEN_COOKIE = "dnlab_view_token";
/** Bodies of the two actions are a few names: anything larger is refused unread. */
const MAX_BODY = 4096;
/** While a page is open, the lab is read again at most this often (the page gets the new state). */
export const REFRESH_MS = 10_000;

export function isLoopback(address: string): boolean {
  return address === "localhost" || address === "::1" || /^127\.\d+\.\d+\.\d+$/.test(address);
}

export interface ViewServerOptions {
  listen: string;
  port: number;
  /** Required off loopback: every request must present it (query ?token=, the cookie it sets, or Bearer). */
  token?: string;
  /** How often open pages get the lab read again (default REFRESH_MS). */
  refreshMs?: number;
}

export interface ViewServer {
  url: string;
  /** The URL with the token, to open first (off loopback). */
  openUrl: string;
  port: number;
  close(): Promise<void>;
}

export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

const SECURITY_HEADERS = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  // The topology SVG carries its own <style> element; no script but the page's own file.
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
};

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, extra: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type, "Content-Length": Buffer.byteLength(body), ...extra });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(value));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new RangeError(`request body over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Server-sent events to every open page. */
class EventHub {
  private readonly clients = new Set<http.ServerResponse>();

  get size(): number {
    return this.clients.size;
  }

  add(res: http.ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": "text/event-stream; charset=utf-8", Connection: "keep-alive" });
    res.write("retry: 2000\n\n");
    this.clients.add(res);
    res.on("close", () => this.clients.delete(res));
  }

  send(event: string, data: unknown): void {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.clients) c.write(text);
  }

  /** A comment line now and then keeps proxies and idle timers from closing the stream. */
  ping(): void {
    for (const c of this.clients) c.write(": ping\n\n");
  }

  closeAll(): void {
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}

export async function startViewServer(lab: ViewLab, o: ViewServerOptions): Promise<ViewServer> {
  if (!isLoopback(o.listen) && !o.token) throw new Error(`listening on ${o.listen} needs a token`);
  const pages = new Map(
    Object.entries(PAGE_FILES).map(([route, p]) => [route, { type: p.type, body: readFileSync(new URL(p.file, PAGE_DIR)) }] as const),
  );
  const hub = new EventHub();
  const events: ViewEvents = {
    verifyStart: (total) => hub.send("verify-start", { total }),
    verifyProgress: (done, total, changed) => hub.send("verify-progress", { done, total, changed }),
    verifyDone: (info) => hub.send("verify-done", info),
    verifyError: (message) => hub.send("verify-error", { message }),
    state: () => hub.send("state", lab.state()),
  };
  let port = o.port;
  const loopbackHosts = (): Set<string> =>
    new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${o.listen.includes(":") ? `[${o.listen}]` : o.listen}:${port}`]);

  /** undefined: let it through; else the refusal. */
  const refuse = (req: http.IncomingMessage, url: URL): { status: number; text: string } | undefined => {
    if (o.token) {
      const given =
        url.searchParams.get("token") ?? cookie(req, TOKEN_COOKIE) ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      if (given === undefined || !sameSecret(given, o.token))
        return { status: 401, text: "401: this page needs the token that npm run view printed (open the URL it printed)\n" };
      return undefined;
    }
    if (!loopbackHosts().has(req.headers.host ?? ""))
      return { status: 403, text: "403: unknown Host (this server answers only on its own address)\n" };
    return undefined;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://view.invalid");
    const refusal = refuse(req, url);
    if (refusal) {
      send(res, refusal.status, "text/plain; charset=utf-8", refusal.text, refusal.status === 401 ? { "WWW-Authenticate": "Bearer" } : {});
      return;
    }
    const method = req.method ?? "GET";
    const page = pages.get(url.pathname);
    if (page && method === "GET") {
      // The token in the first URL becomes a cookie that the page's own requests carry (not readable by scripts).
      const extra: http.OutgoingHttpHeaders =
        o.token && url.searchParams.has("token") ? { "Set-Cookie": `${TOKEN_COOKIE}=${o.token}; HttpOnly; SameSite=Strict; Path=/` } : {};
      send(res, 200, page.type, page.body, extra);
      return;
    }
    if (method === "GET" && url.pathname === "/api/state") {
      json(res, 200, lab.state());
      // An open page sees the lab as it is: read it again in the background when the last read is old.
      if (lab.ageMs() > (o.refreshMs ?? REFRESH_MS)) void lab.refresh().then(() => events.state());
      return;
    }
    if (method === "GET" && url.pathname === "/api/checks") {
      const key = url.searchParams.get("element") ?? "";
      const rows = lab.checks(key);
      if (!rows) json(res, 404, { error: `no element ${JSON.stringify(key)} in lab ${lab.plan.name}` });
      else json(res, 200, rows);
      return;
    }
    if (method === "GET" && url.pathname === "/api/events") {
      hub.add(res);
      return;
    }
    if (method === "POST" && (url.pathname === "/api/verify" || url.pathname === "/api/trace")) {
      await handleAction(lab, events, req, res, url.pathname);
      return;
    }
    json(res, pages.has(url.pathname) || url.pathname.startsWith("/api/") ? 405 : 404, { error: `${method} ${url.pathname}: not here` });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, { error: (e as Error).message });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.listen, () => {
      server.off("error", reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const hostPart = o.listen.includes(":") ? `[${o.listen}]` : o.listen;
  const base = `http://${hostPart}:${port}/`;
  const timer = setInterval(() => {
    hub.ping();
    // While a page is open, keep its picture of the lab fresh.
    if (hub.size > 0 && lab.ageMs() > (o.refreshMs ?? REFRESH_MS)) void lab.refresh().then(() => events.state());
  }, 5_000);
  timer.unref();
  return {
    url: base,
    openUrl: o.token ? `${base}?token=${o.token}` : base,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        hub.closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** POST /api/verify and /api/trace: the page's two actions, each one at a time. */
async function handleAction(
  lab: ViewLab,
  events: ViewEvents,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  action: "/api/verify" | "/api/trace",
): Promise<void> {
  // Only the page's own fetch (JSON, same origin) may act: a form or another site's script cannot.
  const origin = req.headers.origin;
  if (
    !(req.headers["content-type"] ?? "").startsWith("application/json") ||
    (origin !== undefined && new URL(origin).host !== req.headers.host)
  ) {
    json(res, 403, { error: "actions take a JSON request from the page itself" });
    return;
  }
  let body: unknown;
  try {
    const text = await readBody(req);
    body = text.trim() === "" ? {} : JSON.parse(text);
  } catch (e) {
    json(res, 400, { error: (e as Error).message });
    return;
  }
  if (action === "/api/verify") {
    try {
      lab.startVerify(events);
      json(res, 202, { started: true });
    } catch (e) {
      json(res, e instanceof BusyError ? 409 : 500, { error: (e as Error).message });
    }
    return;
  }
  const b = (body ?? {}) as { from?: unknown; to?: unknown };
  let request: ReturnType<ViewLab["validateTrace"]>;
  try {
    request = lab.validateTrace(b.from, b.to);
  } catch (e) {
    json(res, e instanceof TypeError || e instanceof TraceInputError ? 400 : 500, { error: (e as Error).message });
    return;
  }
  try {
    json(res, 200, await lab.trace(request));
  } catch (e) {
    json(res, e instanceof BusyError ? 409 : 500, { error: (e as Error).message });
  }
}
