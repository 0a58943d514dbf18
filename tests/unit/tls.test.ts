// The dind lab's certificates and the client that presents them: a CA per lab, server certificates that
// cover what a client dials (127.0.0.1, the underlay address, the name), the client's files readable by
// their owner only, and HttpDockerEngine speaking TLS to a daemon that demands a client certificate.
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main as tlsCli } from "../../src/cli/tls.js";
import { HttpDockerEngine } from "../../src/docker/engine.js";
import { labClientTls, readClientTls, TlsMaterialError } from "../../src/docker/tls.js";
import { containerArgvs } from "../../src/docker/cli.js";
import { buildPlan, dindHostSpec, dockerCliLine, tlsCommands } from "../../src/model/index.js";
import { type CaMaterial, generateCa, generateServer, type ServerMaterial } from "../../src/tls/certs.js";

const plan = buildPlan({});
const host1 = plan.hosts[0]!;
let ca: CaMaterial;
let server: ServerMaterial;
let dir: string;

beforeAll(async () => {
  ca = await generateCa(plan.tls!);
  server = await generateServer(ca, host1.tls!);
  dir = mkdtempSync(join(tmpdir(), "dnlab-tls-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the lab's certificates", () => {
  it("a CA that signs only leaves, a server certificate for 127.0.0.1, the host's address and name, a client certificate", () => {
    const caCert = new X509Certificate(ca.caCert);
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe("CN=dnlab lab CA");
    const s = new X509Certificate(server.cert);
    expect(s.ca).toBe(false);
    expect(s.checkIssued(caCert)).toBe(true);
    expect(s.verify(caCert.publicKey)).toBe(true);
    expect(s.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(s.checkIP("198.18.0.11")).toBe("198.18.0.11");
    expect(s.checkHost("host1")).toBe("host1");
    expect(s.checkIP("198.18.0.12")).toBeUndefined();
    expect(s.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]); // serverAuth only
    const c = new X509Certificate(ca.clientCert);
    expect(c.verify(caCert.publicKey)).toBe(true);
    expect(c.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]); // clientAuth only
    // Valid for as long as the official dind image's own (825 days), from an hour ago.
    const days = (Date.parse(s.validTo) - Date.parse(s.validFrom)) / 86400_000;
    expect(Math.round(days * 24)).toBe(825 * 24 + 1);
  });

  it("the plan's command lines: the CA (writes the client's files) and one server certificate per host", () => {
    const c = tlsCommands(plan)!;
    expect(c.ca.create).toEqual([
      ...["node", "--import", "tsx", "src/cli/tls.ts", "ca", "--client-dir", ".lab/tls/lab"],
      ...["--ca-name", "dnlab lab CA", "--client-name", "dnlab lab client"],
    ]);
    expect(c.servers["host2"]).toEqual([
      ...["node", "--import", "tsx", "src/cli/tls.ts", "server", "--cn", "host2"],
      ...["--ip", "127.0.0.1", "--ip", "198.18.0.12", "--dns", "host2", "--dns", "localhost"],
    ]);
    expect(tlsCommands(buildPlan({ hostKind: "netns" }))).toBeUndefined();
    expect(dockerCliLine(host1, "/srv/lab/.lab/tls/lab")).toBe(
      "export DOCKER_HOST=tcp://127.0.0.1:23751 DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=/srv/lab/.lab/tls/lab",
    );
  });
});

describe("a dind host's spec", () => {
  it("TLS as the official image serves it: DOCKER_TLS_CERTDIR, 2376 published on loopback only, the certificates uploaded", () => {
    const spec = dindHostSpec(plan, host1);
    expect(spec.env).toEqual(["DOCKER_TLS_CERTDIR=/certs"]);
    expect(spec.ports).toEqual([{ internal: 2376, external: 23751, ip: "127.0.0.1" }]);
    expect(spec.uploads).toEqual([
      { path: "/certs/ca/cert.pem", content: "tls.caCert", mode: "0644" },
      { path: "/certs/server/ca.pem", content: "tls.caCert", mode: "0644" },
      { path: "/certs/server/cert.pem", content: "tls.serverCert", mode: "0644" },
      { path: "/certs/server/key.pem", content: "tls.serverKey", mode: "0600" },
    ]);
    // The CLI mapping copies them in (from where the caller wrote them) before the start; without them it refuses.
    const argvs = containerArgvs(spec, "/tmp/up");
    expect(argvs.at(-2)).toEqual(["cp", "/tmp/up/.", "lab-host1:/"]);
    expect(argvs.at(-1)).toEqual(["start", "lab-host1"]);
    expect(() => containerArgvs(spec)).toThrow(/has uploads/);
  });
});

describe("src/cli/tls.ts", () => {
  it("ca prints the material and writes the client's files, 0600 in a 0700 directory; server signs from stdin; remove removes them", async () => {
    const client = join(dir, "tls", "lab");
    const printed = JSON.parse(
      await tlsCli(["ca", "--client-dir", client, "--ca-name", "dnlab t CA", "--client-name", "dnlab t client"]),
    ) as CaMaterial;
    expect(statSync(client).mode & 0o777).toBe(0o700);
    for (const f of ["ca.pem", "cert.pem", "key.pem"]) expect(statSync(join(client, f)).mode & 0o777, f).toBe(0o600);
    expect(readClientTls(client)).toEqual({ ca: printed.caCert, cert: printed.clientCert, key: printed.clientKey });
    const s = JSON.parse(await tlsCli(["server", "--cn", "h", "--ip", "127.0.0.1"], () => JSON.stringify(printed))) as ServerMaterial;
    expect(new X509Certificate(s.cert).verify(new X509Certificate(printed.caCert).publicKey)).toBe(true);
    await expect(tlsCli(["server", "--cn", "h"], () => "{}")).rejects.toThrow(/no caCert/);
    await tlsCli(["remove", "--client-dir", client]);
    expect(existsSync(client)).toBe(false);
  });

  it("a dind lab's tools read the files; missing ones are one error that says where they come from", () => {
    const resolved = new Map(plan.hosts.map((h) => [h.name, h.endpoint]));
    const elsewhere = { ...plan, tls: { ...plan.tls!, clientDir: join(dir, "absent") } };
    expect(() => labClientTls(elsewhere, resolved)).toThrow(TlsMaterialError);
    expect(() => labClientTls(elsewhere, resolved)).toThrow(/npm run up/);
    // Sockets and ssh need no client certificate.
    expect(labClientTls(elsewhere, new Map([["host1", "unix:///run/x.sock"]]))).toBeUndefined();
    expect(labClientTls(buildPlan({ hostKind: "netns" }), new Map([["host1", "tcp://127.0.0.1:1"]]))).toBeUndefined();
  });
});

describe("HttpDockerEngine over TLS", () => {
  let srv: https.Server;
  let port = 0;
  beforeAll(async () => {
    // A daemon as dockerd --tlsverify runs: its certificate, the lab's CA, a client certificate required.
    srv = https.createServer(
      { cert: server.cert, key: server.key, ca: ca.caCert, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        res.writeHead(req.url === "/v1.41/_ping" ? 200 : 404).end("OK");
      },
    );
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    port = (srv.address() as AddressInfo).port;
  });
  afterAll(() => srv.close());

  it("answers with the lab's client certificate", async () => {
    const e = new HttpDockerEngine(`tcp://127.0.0.1:${port}`, {}, { ca: ca.caCert, cert: ca.clientCert, key: ca.clientKey });
    try {
      await e.ping({ timeoutMs: 5000 });
    } finally {
      e.close();
    }
  });

  it("refuses a client without a certificate, with another CA's, and plain HTTP", async () => {
    const other = await generateCa({ caName: "other CA", clientName: "other client" });
    const attempts = [
      new HttpDockerEngine(`tcp://127.0.0.1:${port}`, {}, { ca: ca.caCert, cert: other.clientCert, key: other.clientKey }),
      new HttpDockerEngine(`tcp://127.0.0.1:${port}`),
    ];
    for (const e of attempts) {
      try {
        await expect(e.ping({ timeoutMs: 5000 })).rejects.toThrow();
      } finally {
        e.close();
      }
    }
    // Without a client certificate the handshake itself fails.
    await expect(
      new Promise((resolve, reject) => {
        const req = https.get({ host: "127.0.0.1", port, path: "/v1.41/_ping", ca: ca.caCert }, resolve);
        req.on("error", reject);
      }),
    ).rejects.toThrow();
    // A daemon whose certificate the lab's CA did not sign is refused too.
    const e = new HttpDockerEngine(`tcp://127.0.0.1:${port}`, {}, { ca: other.caCert, cert: ca.clientCert, key: ca.clientKey });
    try {
      await expect(e.ping({ timeoutMs: 5000 })).rejects.toThrow(/certificate/);
    } finally {
      e.close();
    }
  });
});
