// scripts/images/runc-drop-caps.sh, the outer engine's runtime on machines whose capability bounding
// set lacks capabilities: it edits the OCI spec runc is about to apply and then runs runc unchanged.
// Run here with a stand-in runc that prints its argv, on a spec as containerd writes it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/lab/run.js";

const WRAPPER = join(REPO_ROOT, "scripts/images/runc-drop-caps.sh");
const dir = mkdtempSync(join(tmpdir(), "dnlab-runc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fakeRunc = join(dir, "runc");
writeFileSync(fakeRunc, '#!/bin/sh\necho "runc $*"\n', { mode: 0o755 });

const PRIVILEGED = ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_CHECKPOINT_RESTORE"];
const spec = () => ({
  ociVersion: "1.0.2",
  process: {
    args: ["dockerd"],
    capabilities: { bounding: PRIVILEGED, effective: PRIVILEGED, inheritable: PRIVILEGED, permitted: PRIVILEGED },
  },
  root: { path: "rootfs" },
});

function wrap(args: string[], drop: string): string {
  return execFileSync("bash", [WRAPPER, ...args], {
    env: { ...process.env, DNLAB_RUNC: fakeRunc, DNLAB_DROP_CAPS: drop },
    encoding: "utf8",
  }).trim();
}

describe("runc-drop-caps.sh", () => {
  it("create: removes exactly the listed capabilities from every set of the bundle's spec, then runs runc with the same argv", () => {
    const bundle = join(dir, "b1");
    execFileSync("mkdir", ["-p", bundle]);
    writeFileSync(join(bundle, "config.json"), JSON.stringify(spec()));
    const argv = [
      "--root",
      "/run/x",
      "--log",
      "/run/x/log.json",
      "--log-format",
      "json",
      "create",
      "--bundle",
      bundle,
      "--pid-file",
      "/run/x/pid",
      "c1",
    ];
    expect(wrap(argv, "CAP_SYS_RESOURCE CAP_CHECKPOINT_RESTORE")).toBe(`runc ${argv.join(" ")}`);
    const after = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as ReturnType<typeof spec>;
    const kept = ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"];
    expect(after.process.capabilities).toEqual({ bounding: kept, effective: kept, inheritable: kept, permitted: kept });
    expect({ ...after, process: { ...after.process, capabilities: undefined } }).toEqual({
      ...spec(),
      process: { ...spec().process, capabilities: undefined },
    });
  });

  it("exec: edits the --process spec (healthchecks and docker exec of a privileged container)", () => {
    const proc = join(dir, "process.json");
    writeFileSync(proc, JSON.stringify({ args: ["docker", "info"], capabilities: { bounding: PRIVILEGED, effective: PRIVILEGED } }));
    wrap(["--root", "/run/x", "exec", "--process", proc, "--detach", "c1"], "CAP_SYS_RESOURCE");
    const caps = (JSON.parse(readFileSync(proc, "utf8")) as { capabilities: Record<string, string[]> }).capabilities;
    expect(caps["bounding"]).not.toContain("CAP_SYS_RESOURCE");
    expect(caps["effective"]).toEqual(PRIVILEGED.filter((c) => c !== "CAP_SYS_RESOURCE"));
  });

  it("nothing to drop, or another command: the spec is left byte for byte", () => {
    const bundle = join(dir, "b2");
    execFileSync("mkdir", ["-p", bundle]);
    const text = JSON.stringify(spec());
    writeFileSync(join(bundle, "config.json"), text);
    wrap(["create", "--bundle", bundle, "c2"], "");
    wrap(["delete", "--force", "c2"], "CAP_SYS_RESOURCE");
    expect(readFileSync(join(bundle, "config.json"), "utf8")).toBe(text);
  });
});
