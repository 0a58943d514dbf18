// lab:faults under mocks: each fault is a lab:fault:Fault of its own, after the lab's containers, whose
// command applies it (create and update) and removes it (delete); a new host or kind replaces it, the
// old one removed first; the verification waits for the faults and exports the user's expectations.
import { describe, expect, it } from "vitest";
import { promiseOf, runLab } from "./harness.js";

describe("faults as resources", async () => {
  const run = await runLab({
    hostKind: "netns",
    name: "fl",
    faults: [
      { host: "host2", kind: "loss", loss: "30%" },
      { name: "small-underlay", host: "host2", kind: "mtu", mtu: 1400 },
    ],
    expect: [{ name: "test2 reaches test1 by name", from: "test2", to: "test1", network: "ov_net1" }],
  });

  it("one lab:fault:Fault per fault, parented to the lab, each wrapping its command", () => {
    expect(run.byType("lab:fault:Fault").map((r) => [r.name, r.parent])).toEqual([
      ["fl-fault-loss-host2", "fl"],
      ["fl-fault-small-underlay", "fl"],
    ]);
    const cmd = run.one("command:local:Command", "fl-fault-small-underlay");
    expect(cmd.parent).toBe("fl-fault-small-underlay");
    const inputs = cmd.inputs as { create: string; update: string; delete: string; triggers: string[] };
    const id = run.plan.faults[1]!.id;
    expect(inputs.create).toBe(
      `sh scripts/faults/fault.sh apply --id ${id} --name small-underlay --kind mtu --iface eth0 --netns fl-host2 --mtu 1400 --reset-tcp-port 2379 --state-dir /run/dnlab/fl/faults-host2`,
    );
    expect(inputs.update).toBe(inputs.create);
    expect(inputs.delete).toBe(`sh scripts/faults/fault.sh remove --id ${id} --state-dir /run/dnlab/fl/faults-host2`);
    // Another host or kind is another fault: replaced, the old one removed before the new one exists.
    expect(inputs.triggers).toEqual(["host2", "mtu"]);
    expect(cmd.deleteBeforeReplace).toBe(true);
    expect(cmd.replaceWith).toEqual(["fl-host2"]);
  });

  it("is applied after the lab's containers; the verification waits for every fault", () => {
    const cmd = run.one("command:local:Command", "fl-fault-loss-host2");
    // (and after its host, which re-creating would also re-create the fault)
    expect(cmd.dependsOn).toEqual(["fl-host2", "fl-test1", "fl-test2", "fl-test3"]);
    expect(run.one("command:local:Command", "fl-verify").dependsOn).toEqual(
      expect.arrayContaining(["fl-fault-loss-host2", "fl-fault-small-underlay"]),
    );
  });

  it("exports the faults and, under verification, the user's expectations and the measurements", async () => {
    const v = run.lab.verification!;
    expect((await promiseOf(v.expectations)).map((e) => [e.name, e.key, e.ok])).toEqual([
      ["test2 reaches test1 by name", "lab:expect[0]", true],
    ]);
    const measured = await promiseOf(v.measurements);
    expect(measured.map((m) => m.id).sort()).toEqual(["loss:test1->test2@ov_net1", "loss:test2->test1@ov_net1"]);
  });
});

describe("faults on ssh hosts", async () => {
  const run = await runLab(
    {
      hostKind: "ssh",
      overlayMode: "swarm",
      hosts: [
        { name: "host1", address: "198.18.0.11", ssh: { user: "root", privateKeySecret: "sshKey" } },
        { name: "host2", address: "198.18.0.12", ssh: { user: "lab", privateKeySecret: "sshKey" } },
      ],
      faults: [{ host: "host2", kind: "drop-vxlan" }],
    },
    { sshKeys: { sshKey: "KEY" } },
  );

  it("run on the host over ssh, the script on stdin, under sudo for a user that is not root", () => {
    const cmd = run.one("command:remote:Command", "lab-fault-drop-vxlan-host2").inputs as { create: string; delete: string };
    expect(cmd.create).toMatch(
      /^sudo -n sh -s -- apply --id [0-9a-f]{8} --name drop-vxlan-host2 --kind drop-vxlan --iface eth0 --state-dir \/var\/lib\/dnlab-remote\/lab\/faults <<'__DNLAB_SCRIPT_END__'\n#!\/bin\/sh\n/,
    );
    expect(cmd.delete).toMatch(/^sudo -n sh -s -- remove --id [0-9a-f]{8} --state-dir \/var\/lib\/dnlab-remote\/lab\/faults <<'/);
  });
});
