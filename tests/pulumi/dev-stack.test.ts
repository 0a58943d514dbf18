// The dev stack (2 dind hosts, Consul, ov_net1, mv_net1, test1..test3) under Pulumi mocks: exactly
// the expected resources, with the expected inputs, parents and providers.
import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { labOutputs } from "../../components/labOutputs.js";
import { checkCount, topologyMermaid } from "../../src/model/index.js";
import { promiseOf, runLab, type LabRun } from "./harness.js";

const C = "docker:index/container:Container";
const N = "docker:index/network:Network";
const P = "pulumi:providers:docker";

/** A secret input's value; fails unless the engine would receive it as a secret. */
function secretValue(v: unknown): unknown {
  const sig = "4dabf18193072939515e22adb298388d";
  expect(v, "a secret").toMatchObject({ [sig]: "1b47061264138c4ac30d75fd1eb44270" });
  return (v as { value: unknown }).value;
}

describe("dev stack (dind, kv mode)", async () => {
  const run: LabRun = await runLab({});

  it("registers exactly the expected resources", () => {
    const names = run.resources.map((r) => `${r.type} ${r.name}`).sort();
    expect(names).toEqual(
      [
        `${N} lab-underlay`,
        "command:local:Command lab-tls-ca",
        "command:local:Command lab-tls-host1",
        "command:local:Command lab-tls-host2",
        "docker:index/volume:Volume lab-kv-data",
        "docker:index/remoteImage:RemoteImage lab-kv-image",
        `${C} lab-kv`,
        "docker:index/remoteImage:RemoteImage lab-dind-image",
        "docker:index/volume:Volume lab-host1-data",
        `${C} lab-host1`,
        `${P} lab-host1-provider`,
        "docker:index/volume:Volume lab-host2-data",
        `${C} lab-host2`,
        `${P} lab-host2-provider`,
        `${N} lab-ov_net1`,
        `${N} lab-mv_net1-host1`,
        `${N} lab-mv_net1-host2`,
        "docker:index/remoteImage:RemoteImage lab-host1-busybox-1-36-1",
        "docker:index/remoteImage:RemoteImage lab-host2-busybox-1-36-1",
        `${C} lab-test1`,
        `${C} lab-test2`,
        `${C} lab-test3`,
        "pulumi:providers:consul lab-kv-registrations-provider",
        "command:local:Command lab-verify",
        // One component per concept, with its lab:<module>:<Type> token.
        "lab:index:NetworkLab lab",
        "lab:network:UnderlayNetwork lab-underlay",
        "lab:tls:LabTls lab-tls",
        "lab:kv:ConsulServer lab-kv",
        "lab:host:DockerHost lab-host1",
        "lab:host:DockerHost lab-host2",
        "lab:network:OverlayNetwork lab-ov_net1",
        "lab:network:MacvlanNetwork lab-mv_net1",
        "lab:workload:Workload lab-test1",
        "lab:workload:Workload lab-test2",
        "lab:workload:Workload lab-test3",
        "lab:kv:KvRegistrations lab-kv-registrations",
        "lab:verify:Verification lab-verify",
      ].sort(),
    );
  });

  it("runs Consul as a healthy single-node server on the lab network, UI on loopback only", () => {
    const kv = run.one(C, "lab-kv").inputs;
    expect(kv["command"]).toEqual([
      "agent",
      "-server",
      "-bootstrap-expect=1",
      "-ui",
      "-node=lab-kv",
      "-bind=198.18.0.2",
      "-client=198.18.0.2",
      "-http-port=8500",
    ]);
    expect(kv["image"]).toBe("sha256:lab-kv-image");
    expect(kv["networksAdvanced"]).toEqual([{ name: "lab-underlay", ipv4Address: "198.18.0.2" }]);
    expect(kv["ports"]).toMatchObject([{ internal: 8500, external: 8500, ip: "127.0.0.1" }]);
    expect(kv["wait"]).toBe(true);
    expect(kv["envs"]).toEqual(["CHECKPOINT_DISABLE=1"]);
    expect((kv["healthcheck"] as { tests: string[] }).tests).toEqual(["CMD", "consul", "members", "-http-addr=http://198.18.0.2:8500"]);
    expect(run.one("docker:index/remoteImage:RemoteImage", "lab-kv-image").inputs["name"]).toBe("hashicorp/consul:1.16.3");
    // destroy never removes an image: it may have been on the engine before the lab (a user's).
    for (const img of run.byType("docker:index/remoteImage:RemoteImage")) expect(img.inputs["keepLocally"], img.name).toBe(true);
  });

  it("starts each dind host with the model's daemon flags, its API behind TLS on 127.0.0.1 only", () => {
    for (const [i, h] of run.plan.hosts.entries()) {
      const c = run.one(C, `lab-${h.name}`).inputs;
      expect(c["privileged"]).toBe(true);
      expect(c["hostname"]).toBe(h.name);
      // Flags only: the dind entrypoint adds dockerd, its unix socket and the --tlsverify listener on 2376.
      expect(c["command"]).toEqual(h.daemon.args);
      expect(c["envs"]).toEqual(["DOCKER_TLS_CERTDIR=/certs"]);
      expect((c["command"] as string[]).join(" ")).toContain("--cluster-store=consul://198.18.0.2:8500 --cluster-advertise=eth0:2376");
      // The TLS port only: nothing publishes a plain 2375.
      expect(c["ports"]).toEqual([{ internal: 2376, external: 23751 + i, ip: "127.0.0.1" }]);
      expect(c["networksAdvanced"]).toEqual([{ name: "lab-underlay", ipv4Address: h.address }]);
      // The lab's certificates, uploaded where the official image's entrypoint looks (it makes none of its own then).
      expect(secretValue(c["uploads"])).toEqual([
        { file: "/certs/ca/cert.pem", content: "CA-CERT", permissions: "0644" },
        { file: "/certs/server/ca.pem", content: "CA-CERT", permissions: "0644" },
        {
          file: "/certs/server/cert.pem",
          content: expect.stringContaining(`--cn ${h.name} --ip 127.0.0.1 --ip ${h.address} --dns ${h.name}`),
          permissions: "0644",
        },
        { file: "/certs/server/key.pem", content: "SERVER-KEY", permissions: "0600" },
      ]);
      const provider = run.one(P, `lab-${h.name}-provider`).inputs;
      expect(provider["host"]).toBe(`tcp://127.0.0.1:${23751 + i}`);
      // The client's files, by path: no key in the provider's configuration.
      expect(provider["certPath"]).toBe(`${process.cwd()}/.lab/tls/lab`);
      expect(JSON.stringify(provider)).not.toMatch(/KEY|CERT/);
    }
    expect(run.one("docker:index/remoteImage:RemoteImage", "lab-dind-image").inputs["name"]).toBe("docker:20.10.24-dind");
    expect(run.one(C, "lab-host2").inputs["image"]).toBe("sha256:lab-dind-image");
  });

  it("makes the lab's CA once and a server certificate per host, their keys kept out of logs and in secrets only", () => {
    const ca = run.one("command:local:Command", "lab-tls-ca");
    expect(ca.inputs["create"]).toBe(
      "node --import tsx src/cli/tls.ts ca --client-dir .lab/tls/lab --ca-name 'dnlab lab CA' --client-name 'dnlab lab client'",
    );
    expect(ca.inputs["delete"]).toBe("node --import tsx src/cli/tls.ts remove --client-dir .lab/tls/lab");
    for (const h of ["host1", "host2"]) {
      const s = run.one("command:local:Command", `lab-tls-${h}`);
      // The CA's key reaches the tool on stdin, never on its command line.
      expect(s.inputs["create"]).not.toContain("CA-KEY");
      expect(s.inputs["stdin"]).toContain("CA-KEY");
      expect(s.dependsOn).toContain("lab-tls-ca");
    }
    for (const r of run.resources.filter((x) => x.name.startsWith("lab-tls-"))) {
      expect(r.inputs["logging"], r.name).toBe("stderr");
      expect(r.inputs["addPreviousOutputInEnv"], r.name).toBe(false);
      expect(r.secretOutputs, r.name).toEqual(["stdout"]);
    }
  });

  it("creates ov_net1 once, through host1's provider, and reads it back on host2", () => {
    const ov = run.one(N, "lab-ov_net1");
    expect(ov.inputs).toMatchObject({
      name: "ov_net1",
      driver: "overlay",
      attachable: false,
      ipamConfigs: [{ subnet: "198.18.100.0/24", gateway: "198.18.100.1" }],
    });
    expect(ov.provider).toContain("lab-host1-provider");
    const reads = run.invokes.filter((i) => i.token === "docker:index/getNetwork:getNetwork");
    expect(reads.map((r) => r.args["name"])).toEqual(["ov_net1"]);
  });

  it("creates mv_net1 on every host with that host's own ip-range and the parent interface", () => {
    for (const [host, range] of [
      ["host1", "198.18.0.128/26"],
      ["host2", "198.18.0.192/26"],
    ] as const) {
      const mv = run.one(N, `lab-mv_net1-${host}`);
      expect(mv.inputs).toMatchObject({
        name: "mv_net1",
        driver: "macvlan",
        options: { parent: "eth0" },
        ipamConfigs: [{ subnet: "198.18.0.0/24", gateway: "198.18.0.1", ipRange: range }],
      });
      expect(mv.provider).toContain(`lab-${host}-provider`);
    }
  });

  it("puts test1 on host1 and test2 on host2 on ov_net1, test3 on mv_net1, each through its host's provider", () => {
    const expected = {
      test1: ["host1", "ov_net1", "198.18.100.2"],
      test2: ["host2", "ov_net1", "198.18.100.3"],
      test3: ["host1", "mv_net1", "198.18.0.128"],
    };
    for (const [name, [host, net, ip]] of Object.entries(expected)) {
      const c = run.one(C, `lab-${name}`);
      expect(c.provider).toContain(`lab-${host}-provider`);
      expect(c.inputs).toMatchObject({
        name,
        hostname: name,
        image: `sha256:lab-${host}-busybox-1-36-1`,
        networksAdvanced: [{ name: net, ipv4Address: ip }],
      });
      // Replacing its network or its host's daemon replaces the container, deleted first (fixed names).
      const netResource = net === "ov_net1" ? "lab-ov_net1" : `lab-mv_net1-${host}`;
      expect(c.replaceWith).toEqual([`lab-${host}`, netResource].sort());
      expect(c.deleteBeforeReplace).toBe(true);
    }
  });

  it("parents every resource under its component", async () => {
    const urn = async (o: { urn: import("@pulumi/pulumi").Output<string> }) => promiseOf(o.urn);
    // Mock URNs carry the immediate parent's type: check each link of the chain.
    expect(await urn(run.lab.hosts[0]!)).toMatch(/::lab:index:NetworkLab\$lab:host:DockerHost::lab-host1$/);
    expect(await urn(run.lab.hosts[0]!.provider)).toMatch(/::lab:host:DockerHost\$pulumi:providers:docker::lab-host1-provider$/);
    expect(await urn(run.lab.overlays[0]!)).toMatch(/::lab:index:NetworkLab\$lab:network:OverlayNetwork::lab-ov_net1$/);
    expect(await urn(run.lab.overlays[0]!.network)).toMatch(/::lab:network:OverlayNetwork\$docker:index\/network:Network::lab-ov_net1$/);
    expect(await urn(run.lab.macvlans[0]!.perHost["host2"]!)).toMatch(
      /::lab:network:MacvlanNetwork\$docker:index\/network:Network::lab-mv_net1-host2$/,
    );
    expect(await urn(run.lab.workloads[2]!.container)).toMatch(/::lab:workload:Workload\$docker:index\/container:Container::lab-test3$/);
    expect(await urn(run.lab.kv!)).toMatch(/::lab:index:NetworkLab\$lab:kv:ConsulServer::lab-kv$/);
    expect(await urn(run.lab.verification!.run)).toMatch(/::lab:verify:Verification\$command:local:Command::lab-verify$/);
    expect(await urn(run.lab.tls!)).toMatch(/::lab:index:NetworkLab\$lab:tls:LabTls::lab-tls$/);
    expect(await urn(run.lab.tls!.ca)).toMatch(/::lab:tls:LabTls\$command:local:Command::lab-tls-ca$/);
  });

  it("exports each host's docker CLI line: the endpoint, TLS verification, the client's files", async () => {
    const out = labOutputs(run.plan, run.lab);
    const certPath = `${process.cwd()}/.lab/tls/lab`;
    expect(out.hosts["host2"]).toMatchObject({
      dockerCli: `export DOCKER_HOST=tcp://127.0.0.1:23752 DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=${certPath}`,
    });
  });

  it("reads Docker's entries from Consul and summarizes them", async () => {
    const summary = await promiseOf(run.lab.kvRegistrations!.summary);
    expect(summary.nodes).toEqual(["198.18.0.11:2376", "198.18.0.12:2376"]);
    expect(summary.networks.map((n) => n.name)).toEqual(["ov_net1"]);
    expect(run.one("pulumi:providers:consul", "lab-kv-registrations-provider").inputs["address"]).toBe("127.0.0.1:8500");
  });

  it("exports the Consul UI, hosts' endpoints, networks with id/subnet/driver, containers with host and IPs, the topology", async () => {
    const out = await promiseOf(pulumi.output(labOutputs(run.plan, run.lab)));
    expect(out.consulUi).toBe("http://127.0.0.1:8500/ui/");
    expect(out.hosts["host2"]).toMatchObject({ address: "198.18.0.12", endpoint: "tcp://127.0.0.1:23752", kind: "dind" });
    expect(out.networks["ov_net1"]).toEqual({
      driver: "overlay",
      subnet: "198.18.100.0/24",
      id: "lab-ov_net1-id",
      seenOn: { host1: "lab-ov_net1-id", host2: "ov_net1-id" },
    });
    expect(out.networks["mv_net1"]).toMatchObject({
      driver: "macvlan",
      subnet: "198.18.0.0/24",
      parent: "eth0",
      ids: { host1: "lab-mv_net1-host1-id", host2: "lab-mv_net1-host2-id" },
      ranges: { host1: "198.18.0.128/26", host2: "198.18.0.192/26" },
    });
    expect(out.containers).toEqual({
      test1: { host: "host1", ips: { ov_net1: "198.18.100.2" } },
      test2: { host: "host2", ips: { ov_net1: "198.18.100.3" } },
      test3: { host: "host1", ips: { mv_net1: "198.18.0.128" } },
    });
    expect(out.topology).toBe(topologyMermaid(run.plan));
  });

  it("exports the verifier's results", async () => {
    const summary = await promiseOf(run.lab.verification!.summary);
    expect(summary).toMatchObject({ passed: checkCount(run.plan.checks) - 1, expectedFailures: 1, failed: 0 });
    const verify = run.one("command:local:Command", "lab-verify").inputs;
    expect(verify["create"]).toContain("src/cli/verify.ts");
    expect(JSON.parse(verify["stdin"] as string)).toMatchObject({ name: "lab", hosts: run.plan.hosts });
    // ov_net1, mv_net1 on each host, test1..test3.
    expect((verify["triggers"] as unknown[]).length).toBe(1 + 2 + 3);
  });
});

describe("dev stack with lab:kv.publishUi: false", async () => {
  const run: LabRun = await runLab({ kv: { publishUi: false } });

  it("publishes nothing of the KV store, reads nothing back from it, and exports no UI", async () => {
    expect(run.one(C, "lab-kv").inputs["ports"]).toBeUndefined();
    expect(run.byType("pulumi:providers:consul")).toEqual([]);
    expect(run.lab.kvRegistrations).toBeUndefined();
    const out = labOutputs(run.plan, run.lab);
    expect(await promiseOf(out.consulUi)).toBeNull();
    // The daemons still use it on the lab network.
    expect(run.one(C, "lab-host1").inputs["command"]).toContain("--cluster-store=consul://198.18.0.2:8500");
  });
});
