// ssh hosts and swarm mode under mocks: the reversible daemon configuration runs over ssh with the
// key from a secret, the swarm token stays secret, and the order is daemon -> networks -> containers
// -> verification.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { labOutputs } from "../../components/labOutputs.js";
import { promiseOf, runLab } from "./harness.js";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nfake-key-material\n-----END OPENSSH PRIVATE KEY-----";
const sshHosts = [
  { name: "host1", address: "198.18.0.11", ssh: { user: "root", privateKeySecret: "sshPrivateKey" } },
  {
    name: "host2",
    address: "198.18.0.12",
    ssh: { user: "lab", port: 2222, privateKeySecret: "sshPrivateKey", identityFile: "/home/me/.ssh/lab" },
  },
];

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** A secret as the engine receives it: wrapped with Pulumi's secret signature. */
function secretValue(v: unknown): unknown {
  expect(v, "expected a secret").toMatchObject({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270" });
  return (v as { value: unknown }).value;
}

async function isSecret(o: pulumi.Output<unknown>): Promise<boolean> {
  return pulumi.isSecret(o);
}

describe("ssh kind, kv mode", async () => {
  const run = await runLab({ hostKind: "ssh", hosts: sshHosts }, { sshKeys: { sshPrivateKey: KEY } });

  it("configures each daemon with the repo's script over ssh: apply on create, restore on delete", () => {
    for (const h of run.plan.hosts) {
      const cmd = run.one("command:remote:Command", `lab-${h.name}`).inputs as { create: string; delete: string; connection: unknown };
      expect(cmd.create).toContain("bash -s -- apply --mode kv");
      expect(cmd.create).toContain("--cluster-store=consul://198.18.0.11:8500");
      expect(cmd.create).toContain("set -euo pipefail"); // the script itself travels on stdin
      expect(cmd.delete).toContain("bash -s -- restore");
      // The connection carries the key, so the engine gets all of it as a secret.
      expect(secretValue(cmd.connection)).toMatchObject({ host: h.address, user: h.ssh!.user, port: h.ssh!.port, privateKey: KEY });
    }
    expect(run.one("command:remote:Command", "lab-host2").inputs["create"]).toMatch(/^sudo -n /);
    expect(run.one("command:remote:Command", "lab-host1").inputs["create"]).not.toMatch(/^sudo/);
  });

  it("reaches Docker over ssh and runs Consul on host1 with host networking, as in the article", () => {
    const provider = run.one("pulumi:providers:docker", "lab-host2-provider").inputs;
    expect(provider["host"]).toBe("ssh://lab@198.18.0.12:2222");
    // Provider config reaches the engine JSON-encoded.
    expect(JSON.parse(String(provider["sshOpts"]))).toEqual(["-o", "StrictHostKeyChecking=accept-new", "-i", "/home/me/.ssh/lab"]);
    const kv = run.one("docker:index/container:Container", "lab-kv");
    expect(kv.inputs["networkMode"]).toBe("host");
    expect(kv.provider).toContain("lab-kv-host-provider");
    expect(run.one("pulumi:providers:docker", "lab-kv-host-provider").inputs["host"]).toBe("ssh://root@198.18.0.11:22");
  });

  it("orders: KV healthy -> daemons configured -> networks -> containers -> verification", () => {
    const deps = (type: string, name: string) => run.one(type, name).dependsOn;
    for (const h of ["host1", "host2"]) expect(deps("command:remote:Command", `lab-${h}`)).toContain("lab-kv");
    // Consul runs on host1 and stops while host1's daemon restarts: host2's daemon restarts only after
    // host1's is back in the store, so it starts with a store that answers (and joins host1 at once).
    expect(deps("command:remote:Command", "lab-host2")).toContain("lab-host1");
    expect(deps("command:remote:Command", "lab-host1")).not.toContain("lab-host2");
    expect(deps("docker:index/network:Network", "lab-ov_net1")).toEqual(["lab-host1", "lab-host2"]);
    expect(deps("docker:index/container:Container", "lab-test1")).toContain("lab-ov_net1");
    expect(deps("docker:index/container:Container", "lab-test3")).toContain("lab-mv_net1-host1");
    expect(deps("command:local:Command", "lab-verify")).toEqual(
      expect.arrayContaining(["lab-test1", "lab-test2", "lab-test3", "lab-ov_net1"]),
    );
    // Host providers exist only once their daemon is configured.
    expect(deps("pulumi:providers:docker", "lab-host1-provider")).toEqual(["lab-host1"]);
  });

  it("keeps the private key secret and out of every output", async () => {
    const daemon = run.lab.hosts[0]!.daemon as unknown as { connection: pulumi.Output<unknown> };
    expect(await isSecret(daemon.connection)).toBe(true);
    const outputs = await promiseOf(pulumi.output(labOutputs(run.plan, run.lab)));
    expect(JSON.stringify(outputs)).not.toContain("fake-key-material");
  });

  it("refuses to build without the key secret", async () => {
    await expect(runLab({ hostKind: "ssh", hosts: sshHosts })).rejects.toThrow(/ssh host host1: secret sshPrivateKey was not provided/);
  });
});

describe("swarm mode on dind", async () => {
  const run = await runLab({ overlayMode: "swarm" });

  it("inits on host1 with the model's pool, joins host2 with the token, leaves on destroy", () => {
    const init = run.one("command:local:Command", "lab-swarm-init").inputs as { create: string; delete: string };
    expect(init.create).toBe("bash scripts/swarm/init.sh tcp://127.0.0.1:23751 198.18.0.11 198.18.128.0/17 24");
    expect(init.delete).toBe("bash scripts/swarm/leave.sh tcp://127.0.0.1:23751");
    const join = run.one("command:local:Command", "lab-swarm-join-host2").inputs as {
      create: string;
      delete: string;
      environment: unknown;
    };
    expect(join.create).toBe("bash scripts/swarm/join.sh tcp://127.0.0.1:23752 198.18.0.11:2377 198.18.0.12");
    expect(secretValue(join.environment)).toMatchObject({ SWARM_JOIN_TOKEN: "SWMTKN-1-secret-token" });
    expect(join.delete).toBe("bash scripts/swarm/leave.sh tcp://127.0.0.1:23752");
    // Their docker CLI speaks TLS with the client's files the lab's CA step wrote (the hosts take nothing else).
    const tls = { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: `${process.cwd()}/.lab/tls/lab` };
    expect((run.one("command:local:Command", "lab-swarm-init").inputs as { environment: unknown }).environment).toMatchObject(tls);
    expect(secretValue(join.environment)).toMatchObject(tls);
    // ... and run only once that step has: through the manager's daemon, which waits for its certificate.
    expect(run.one("docker:index/container:Container", "lab-host1").dependsOn).toEqual(expect.arrayContaining(["lab-tls-host1"]));
  });

  it("keeps the join token secret", async () => {
    expect(await isSecret(run.lab.swarm!.joinToken)).toBe(true);
    const outputs = await promiseOf(pulumi.output(labOutputs(run.plan, run.lab)));
    expect(JSON.stringify(outputs)).not.toContain("SWMTKN");
  });

  it("uses current dind, no cluster store, an attachable overlay created after every node joined", () => {
    expect(run.one("docker:index/remoteImage:RemoteImage", "lab-dind-image").inputs["name"]).toBe("docker:27.5.1-dind");
    expect(String(run.one("docker:index/container:Container", "lab-host1").inputs["command"])).not.toContain("cluster-store");
    expect(run.byType("lab:kv:ConsulServer")).toEqual([]);
    const ov = run.one("docker:index/network:Network", "lab-ov_net1");
    expect(ov.inputs).toMatchObject({ driver: "overlay", attachable: true });
    expect(ov.dependsOn).toEqual(["lab-host1", "lab-swarm-init", "lab-swarm-join-host2"]);
    // Containers on every host attach to it by name.
    expect(run.one("docker:index/container:Container", "lab-test2").inputs["networksAdvanced"]).toEqual([
      { name: "ov_net1", ipv4Address: "198.18.100.3" },
    ]);
  });
});
