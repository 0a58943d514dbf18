// npm run view on a lab whose hosts it reaches over ssh (real machines, played by netns hosts with an
// sshd each, as in ssh.test.ts): the page reads the lab through ssh:// endpoints (`docker system
// dial-stdio` in an ssh session whose DOCKER_HOST is the host's daemon), "verify now" runs every check
// green through them, and a trace test2 -> test1 is delivered. The machine running the page reaches the
// hosts as a user's would: its ssh goes through the lab switch (a ProxyCommand into the switch's
// namespace), and the throwaway sshds' new host keys are accepted (the stand-in for a known_hosts).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { LabConfigInput } from "../../src/model/index.js";
import { type Browser, browserMissing, launchBrowser } from "../browser.js";
import { describeRealLab } from "./gate.js";
import { useNetnsLab } from "./harness.js";
import { ensureRunSshd, startSshd, stopSshd } from "./sshd.js";
import { startView, stopView, type ViewProcess } from "./viewProcess.js";

const T = 120_000;

describeRealLab(
  "npm run view over ssh:// endpoints (netns hosts with an sshd each), in a real browser",
  () => {
    const config: LabConfigInput = { name: "vs1", hostKind: "netns", kv: { kind: "etcd" } };
    const lab = useNetnsLab(config, { workloads: true });
    const dir = mkdtempSync(join(os.tmpdir(), "view-ssh-"));
    const cfg = join(dir, "lab.json");
    const key = join(dir, "id_ed25519");
    writeFileSync(cfg, JSON.stringify(config));
    let dropRunSshd: () => void = () => {};
    let view: ViewProcess | undefined;
    let browser: Browser | undefined;

    beforeAll(async () => {
      const missing = browserMissing();
      if (missing) throw new Error(`[real-lab] the page test needs a browser: ${missing}`);
      dropRunSshd = ensureRunSshd();
      for (const h of lab.plan.hosts) await startSshd(h, key, [`SetEnv DOCKER_HOST=${h.endpoint}`]);
      const bin = join(dir, "bin");
      mkdirSync(bin);
      writeFileSync(
        join(bin, "ssh"),
        [
          "#!/bin/sh",
          "# The test's ssh: new host keys accepted, and the lab's addresses reached through its switch.",
          `exec /usr/bin/ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o "ProxyCommand=nsenter --net=/run/netns/${lab.plan.netns!.switchNamespace} busybox nc %h %p" "$@"`,
          "",
        ].join("\n"),
      );
      chmodSync(join(bin, "ssh"), 0o755);
      const endpoints = lab.plan.hosts.flatMap((h) => ["--endpoint", `${h.name}=ssh://root@${h.address}:22`]);
      view = startView(["--config", cfg, ...endpoints, "--ssh-key", key, "--port", "0", "--verify-file", join(dir, "verify.json")], {
        ...process.env,
        PATH: `${bin}:${process.env["PATH"]}`,
      });
      await view.url;
      browser = await launchBrowser();
    }, T);

    afterAll(async () => {
      await browser?.close();
      if (view) await stopView(view.child);
      for (const h of lab.plan.hosts) await stopSshd(h);
      dropRunSshd();
      rmSync(dir, { recursive: true, force: true });
    });

    it(
      "the page reads the lab over ssh, verifies it green and traces test2 -> test1",
      async () => {
        const page = browser!.page;
        await page.goto(await view!.url);
        await page.waitForSelector("body[data-ready]");
        expect(await page.isHidden("#not-running")).toBe(true);
        const states = await page.$$eval("#containers tbody tr td:nth-child(3)", (tds) => tds.map((td) => td.textContent));
        expect(states).toEqual(["running", "running", "running"]);
        await page.click("#verify-now");
        await page.waitForSelector("#verify-progress:has-text('done:')", { timeout: 60_000 });
        expect(await page.textContent("#verify-progress")).toMatch(/19 passed, 1 expected failure, 0 failed/);
        const colours = await page.$$eval("#topology [data-status]", (es) => [...new Set(es.map((e) => e.getAttribute("data-status")))]);
        expect(colours).toEqual(["pass"]);
        await page.selectOption("#trace-from", "test2");
        await page.selectOption("#trace-to", "test1");
        await page.click("#trace-run");
        await page.waitForFunction(() => document.querySelector("#trace-summary")?.textContent, undefined, { timeout: 60_000 });
        expect(await page.textContent("#trace-summary")).toMatch(/delivered and answered/);
        expect(await page.$$("#trace-path g.hop")).toHaveLength(10);
        expect(view!.log()).toMatch(/2 of 2 hosts answer/);
      },
      T,
    );
  },
  { binaries: ["sshd", "ssh", "ssh-keygen"] },
);
