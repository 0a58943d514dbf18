// The Engine API client against a stand-in daemon on a unix socket (and over a stand-in `ssh`).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EndpointError, parseEndpoint } from "../../src/docker/endpoint.js";
import { HttpDockerEngine } from "../../src/docker/engine.js";
import { sshArgs } from "../../src/docker/transport.js";

function frame(stream: number, text: string): Buffer {
  const p = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(p.length, 4);
  return Buffer.concat([h, p]);
}

const dir = mkdtempSync(join(tmpdir(), "verify-engine-"));
const sock = join(dir, "docker.sock");
const seen: string[] = [];
let server: http.Server;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? "";
    seen.push(`${req.method} ${url}`);
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const json = (status: number, v: unknown): void => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(v));
      };
      if (url === "/v1.41/_ping") return void res.end("OK");
      if (url === "/v1.41/containers/test1/json")
        return json(200, { Id: "abc", Name: "/test1", State: { Status: "running", Running: true }, NetworkSettings: {} });
      if (url === "/v1.41/containers/nope/json") return json(404, { message: "No such container: nope" });
      if (url === "/v1.41/networks/broken") return json(500, { message: "could not get network from store" });
      if (url === "/v1.41/containers/test1/exec") {
        const cmd = (JSON.parse(body) as { Cmd: string[] }).Cmd;
        return json(201, { Id: cmd.includes("sleep") ? "exec-sleep" : "exec-1" });
      }
      if (url === "/v1.41/exec/exec-1/start") {
        // Like dockerd: hijack the connection, write a bare status line and the raw multiplexed stream, close.
        const s = req.socket;
        s.write("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n");
        s.write(Buffer.concat([frame(1, "PING test2 (198.18.100.3)\n"), frame(2, "warning\n")]));
        setTimeout(() => s.end(frame(1, "64 bytes from 198.18.100.3: seq=0\n")), 20);
        return;
      }
      if (url === "/v1.41/exec/exec-sleep/start") return; // never answers
      if (url === "/v1.41/exec/exec-1/json") return json(200, { Running: false, ExitCode: 3 });
      if (url.startsWith("/v1.41/containers/create")) return json(201, { Id: "helper1" });
      if (url === "/v1.41/containers/helper1/start") return void res.writeHead(204).end();
      if (url === "/v1.41/containers/helper1/wait") return json(200, { StatusCode: 0 });
      if (url.startsWith("/v1.41/containers/helper1/logs")) return void res.end(Buffer.concat([frame(1, "out\n"), frame(2, "err\n")]));
      if (url.startsWith("/v1.41/containers/helper1?force=1")) return void res.writeHead(204).end();
      json(404, { message: `unexpected ${req.method} ${url}` });
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe("endpoints", () => {
  it("parses unix, tcp and ssh; rejects the rest with a fix", () => {
    expect(parseEndpoint("unix:///run/dnlab/lab/host1.sock")).toMatchObject({ kind: "unix", socketPath: "/run/dnlab/lab/host1.sock" });
    expect(parseEndpoint("tcp://127.0.0.1:23751")).toMatchObject({ kind: "tcp", host: "127.0.0.1", port: 23751 });
    expect(parseEndpoint("ssh://ops@198.18.0.11:2222")).toMatchObject({ kind: "ssh", user: "ops", host: "198.18.0.11", port: 2222 });
    expect(parseEndpoint("ssh://ops@198.18.0.11")).toMatchObject({ port: 22 });
    expect(() => parseEndpoint("unix://relative.sock")).toThrow(EndpointError);
    expect(() => parseEndpoint("ssh://198.18.0.11")).toThrow(/needs user@host/);
    expect(() => parseEndpoint("npipe:////./pipe/docker")).toThrow(/unsupported scheme npipe:.*use unix:\/\//);
  });
  it("ssh argv: port, key, batch mode, then docker system dial-stdio", () => {
    const e = parseEndpoint("ssh://ops@198.18.0.11:2222");
    if (e.kind !== "ssh") throw new Error("kind");
    expect(sshArgs(e, { identityFile: "/k" })).toEqual([
      "-p",
      "2222",
      "-i",
      "/k",
      "-o",
      "BatchMode=yes",
      "--",
      "ops@198.18.0.11",
      "docker",
      "system",
      "dial-stdio",
    ]);
  });
});

describe("HttpDockerEngine over a unix socket", () => {
  it("inspect: found, 404 as undefined, other errors carry the daemon's message", async () => {
    const e = new HttpDockerEngine(`unix://${sock}`);
    try {
      expect((await e.inspectContainer("test1"))?.Name).toBe("/test1");
      expect(await e.inspectContainer("nope")).toBeUndefined();
      await expect(e.inspectNetwork("broken")).rejects.toThrow(/GET \/networks\/broken: HTTP 500: could not get network from store/);
    } finally {
      e.close();
    }
  });

  it("exec: hijacked multiplexed stream split into stdout/stderr, exit code from exec inspect", async () => {
    const e = new HttpDockerEngine(`unix://${sock}`);
    try {
      const r = await e.exec("test1", ["ping", "-c", "1", "test2"]);
      expect(r).toEqual({ exitCode: 3, stdout: "PING test2 (198.18.100.3)\n64 bytes from 198.18.100.3: seq=0\n", stderr: "warning\n" });
    } finally {
      e.close();
    }
  });

  it("per-call timeout: a call that never answers fails after timeoutMs, and an abort signal works too", async () => {
    const e = new HttpDockerEngine(`unix://${sock}`);
    try {
      await expect(e.exec("test1", ["sleep", "60"], { timeoutMs: 200 })).rejects.toThrow(
        /POST \/exec\/exec-sleep\/start timed out after 200 ms/,
      );
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      await expect(e.exec("test1", ["sleep", "60"], { signal: ac.signal })).rejects.toThrow(/aborted/);
    } finally {
      e.close();
    }
  });

  it("a helper container: create (its id back), start, force-remove", async () => {
    const e = new HttpDockerEngine(`unix://${sock}`);
    seen.length = 0;
    try {
      const id = await e.createContainer({ image: "busybox:1.36.1", cmd: ["true"], networkMode: "host" });
      expect(id).toBe("helper1");
      await e.startContainer(id);
      await e.removeContainer(id);
      expect(seen.map((s) => s.split("?")[0])).toEqual([
        "POST /v1.41/containers/create",
        "POST /v1.41/containers/helper1/start",
        "DELETE /v1.41/containers/helper1",
      ]);
    } finally {
      e.close();
    }
  });

  it("a missing socket is a clear error naming the endpoint", async () => {
    const e = new HttpDockerEngine(`unix://${dir}/absent.sock`);
    await expect(e.ping()).rejects.toThrow(new RegExp(`unix://${dir}/absent.sock: GET /_ping: ENOENT`));
    e.close();
  });
});

describe("ssh:// through a stand-in ssh (stdin/stdout bridged to the socket, like dial-stdio)", () => {
  it("speaks HTTP over the child's stdio, passes the ssh argv, reuses the connection", async () => {
    const argsFile = join(dir, "ssh-args");
    const bridge = join(dir, "bridge.mjs");
    writeFileSync(
      bridge,
      `import net from "node:net"; const s = net.connect(process.argv[2]); process.stdin.pipe(s); s.pipe(process.stdout); s.on("close", () => process.exit(0));\n`,
    );
    const fake = join(dir, "fake-ssh");
    writeFileSync(fake, `#!/bin/sh\necho "$@" >> ${argsFile}\nexec ${process.execPath} ${bridge} ${sock}\n`);
    chmodSync(fake, 0o755);
    const e = new HttpDockerEngine("ssh://ops@198.18.0.11:2222", { command: fake, identityFile: "/key" });
    try {
      expect((await e.inspectContainer("test1"))?.Name).toBe("/test1");
      expect(await e.inspectContainer("nope")).toBeUndefined();
      const r = await e.exec("test1", ["ping", "-c", "1", "test2"]);
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toBe("warning\n");
    } finally {
      e.close();
    }
    const calls = readFileSync(argsFile, "utf8").trim().split("\n");
    expect(calls[0]).toBe("-p 2222 -i /key -o BatchMode=yes -- ops@198.18.0.11 docker system dial-stdio");
    // keep-alive: the two inspects and the exec create share one session; the hijacked exec start ends its own.
    expect(calls.length).toBeLessThanOrEqual(3);
  });

  it("an ssh that fails says why", async () => {
    const fake = join(dir, "failing-ssh");
    writeFileSync(fake, "#!/bin/sh\necho 'ssh: connect to host 198.18.0.11 port 22: Connection refused' >&2\nexit 255\n");
    chmodSync(fake, 0o755);
    const e = new HttpDockerEngine("ssh://ops@198.18.0.11", { command: fake });
    await expect(e.ping({ timeoutMs: 5000 })).rejects.toThrow(
      /ssh exited with 255: ssh: connect to host 198.18.0.11 port 22: Connection refused/,
    );
    e.close();
  });
});
