// The dockerd a netns lab runs: DNLAB_DOCKERD reaches host-up.sh as --dockerd, and the preflight
// judges the consul cluster-store backend on that very binary (not on Debian's /usr/sbin/dockerd).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { netnsPreflight } from "../../src/lab/netnsLab.js";
import { buildPlan } from "../../src/model/index.js";
import { dockerdBinaryPath } from "../../src/lab/tools.js";
import { netnsShellSteps } from "../../src/stack/steps.js";

const plan = buildPlan({ hostKind: "netns", name: "dkunit", kv: { kind: "consul" } });
const dir = mkdtempSync(join(tmpdir(), "dnlab-dockerd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in "binary": the preflight only looks for the backend's package path in it. */
function fakeDockerd(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content, { mode: 0o755 });
  return p;
}

async function preflightError(dockerdBinary: string): Promise<string> {
  try {
    await netnsPreflight(plan, { consulBinary: "/bin/true", dockerdBinary });
    return "";
  } catch (e) {
    return (e as Error).message;
  }
}

describe("DNLAB_DOCKERD", () => {
  it("is read from the environment", () => {
    expect(dockerdBinaryPath({ DNLAB_DOCKERD: "/opt/d/dockerd" })).toBe("/opt/d/dockerd");
    expect(dockerdBinaryPath({})).toBeUndefined();
  });

  it("reaches every host-up as --dockerd, before the daemon flags; unset, host-up keeps its default", () => {
    const withIt = netnsShellSteps(plan, { DNLAB_CONSUL: "/c/consul", DNLAB_DOCKERD: "/opt/d/dockerd" });
    for (const h of plan.hosts) {
      const cmd = withIt.hosts[h.name]!.up.create;
      expect(cmd).toContain("--dockerd /opt/d/dockerd --");
      expect(cmd.indexOf("--dockerd")).toBeLessThan(cmd.indexOf("--cluster-store="));
    }
    const without = netnsShellSteps(plan, { DNLAB_CONSUL: "/c/consul" });
    for (const h of plan.hosts) expect(without.hosts[h.name]!.up.create).not.toContain("--dockerd");
  });
});

describe("netnsPreflight checks the dockerd that will run", () => {
  it("refuses consul when that binary lacks the backend, naming it and the fix", async () => {
    const bin = fakeDockerd("no-consul", "github.com/docker/libkv/store/etcd github.com/docker/libkv/store/zookeeper");
    const msg = await preflightError(bin);
    expect(msg).toContain(`lab:kv.kind = "consul": ${bin} was built without the consul cluster-store backend`);
    expect(msg).toContain("npm run dockerd:build");
    expect(msg).toContain("DNLAB_DOCKERD");
  });

  it("accepts consul when that binary has the backend", async () => {
    const bin = fakeDockerd("with-consul", "github.com/docker/libkv/store/consul");
    // Other machine problems (e.g. a system containerd) may still be reported; the backend must not.
    expect(await preflightError(bin)).not.toContain("cluster-store backend");
  });

  it("a dockerdBinary that does not exist is named, with the fix", async () => {
    const msg = await preflightError(join(dir, "missing-dockerd"));
    expect(msg).toMatch(/dockerdBinary = ".*missing-dockerd" does not exist\. Fix: npm run dockerd:build/);
    expect(msg).not.toContain("cluster-store backend");
  });
});

describe("netnsPreflight: zookeeper needs a dockerd with the libkv listing fix", () => {
  const zk = buildPlan({ hostKind: "netns", name: "dkzk", kv: { kind: "zookeeper" } });
  /** A stand-in dockerd: the backend's package path in its bytes, and what --version prints. */
  const fake = (name: string, version: string): string =>
    fakeDockerd(name, `#!/bin/sh\n# github.com/docker/libkv/store/zookeeper\necho '${version}'\n`);
  const error = async (dockerdBinary: string): Promise<string> =>
    netnsPreflight(zk, { dockerdBinary }).then(
      () => "",
      (e: Error) => e.message,
    );

  it("refuses Docker's own store (Debian's dockerd), naming the panic and the fix", async () => {
    const bin = fake("stock", "Docker version 20.10.24+dfsg1, build 5d6db84");
    const msg = await error(bin);
    expect(msg).toContain(`lab:kv.kind = "zookeeper": ${bin}: its dockerd (Docker version 20.10.24+dfsg1, build 5d6db84)`);
    expect(msg).toContain("panics (nil endpoint count) at the first container");
    expect(msg).toContain("Fix: npm run dockerd:build");
  });

  it("accepts the dockerd that says it carries the fix", async () => {
    const msg = await error(fake("fixed", "Docker version 20.10.24+dfsg1+consul+nsfix+zklist, build 5d6db84"));
    expect(msg).not.toContain("zookeeper");
  });
});
