// hostKind netns under mocks: the stack drives the repo's scripts through local.Command, in order,
// and talks to each host's dockerd on its unix socket.
import { describe, expect, it } from "vitest";
import { runLab, promiseOf } from "./harness.js";

describe("netns kind", async () => {
  const run = await runLab({ hostKind: "netns", name: "nl", kv: { kind: "etcd" } });
  const cmd = (name: string) => run.one("command:local:Command", name).inputs as { create: string; delete: string };

  it("brings up the switch, the KV host and each host with the scripts, and deletes them with the scripts", () => {
    expect(cmd("nl-underlay").create).toMatch(
      /^bash scripts\/netns\/switch-up\.sh --namespace nl-sw --bridge br0 --gateway 198\.18\.0\.1\/24/,
    );
    expect(cmd("nl-underlay").delete).toMatch(/^bash scripts\/netns\/switch-down\.sh --namespace nl-sw/);
    // The neighbour table: reserved under the lab's name, re-run (update = create) when the lab grows.
    const nb = run.one("command:local:Command", "nl-underlay-neighbours").inputs as { create: string; update: string; delete: string };
    expect(nb.create).toBe("bash scripts/netns/neigh-table.sh reserve --lab nl --gc-thresh3 2048 --dir /run/dnlab-neigh");
    expect(nb.update).toBe(nb.create);
    expect(nb.delete).toBe("bash scripts/netns/neigh-table.sh release --lab nl --dir /run/dnlab-neigh");
    expect(cmd("nl-kv").create).toContain("scripts/netns/kv-up.sh --kind etcd");
    expect(cmd("nl-kv").create).toContain("--address 198.18.0.2/24");
    expect(cmd("nl-kv").delete).toContain("scripts/netns/kv-down.sh --namespace nl-kv");
    for (const h of run.plan.hosts) {
      const up = cmd(`nl-${h.name}`);
      expect(up.create).toContain(`scripts/netns/host-up.sh --name ${h.name}`);
      expect(up.create).toContain(`--socket /run/dnlab/nl/${h.name}.sock`);
      expect(up.create.endsWith(`-- ${h.daemon.args.join(" ")}`)).toBe(true);
      expect(up.create).toContain("--cluster-store=etcd://198.18.0.2:2379");
      expect(up.delete).toContain(`scripts/netns/host-down.sh --namespace nl-${h.name}`);
      expect(cmd(`nl-${h.name}-image`).create).toContain("scripts/netns/busybox-image.sh");
      expect(run.one("pulumi:providers:docker", `nl-${h.name}-provider`).inputs["host"]).toBe(`unix:///run/dnlab/nl/${h.name}.sock`);
    }
  });

  it("uses the locally built busybox image, no registry pull", () => {
    expect(run.byType("docker:index/remoteImage:RemoteImage")).toEqual([]);
    expect(run.one("docker:index/container:Container", "nl-test1").inputs["image"]).toBe("busybox:1.36.1");
  });

  it("does not read Consul (etcd) and still verifies", async () => {
    expect(run.byType("pulumi:providers:consul")).toEqual([]);
    expect((await promiseOf(run.lab.verification!.summary)).failed).toBe(0);
  });

  it("orders host bring-up after the switch and the KV store", async () => {
    // The dependency is expressed through dependsOn: the host commands list them.
    const hostDeps = await Promise.all(run.lab.hosts.map((h) => promiseOf(h.urn)));
    expect(hostDeps).toHaveLength(2);
    expect(run.lab.kv!.ready).toHaveLength(1);
    // Hosts wait for the switch and for the kernel's neighbour table sized for the lab.
    expect(run.lab.underlay.ready).toEqual([run.lab.underlay.neighbourTable, run.lab.underlay.switchCommand]);
  });
});
