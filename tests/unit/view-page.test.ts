// The live page in a real browser (Debian's chromium through playwright-core) against an in-memory lab:
// what it shows before any verification, "verify now" turning it green, a stopped container turning red
// with its checks listed on a click, the trace picked by clicking two containers (stopped with its cause,
// then whole), the page without a running lab, and the page behind a token. Without chromium it is
// skipped with the reason outside CI, and fails under CI (scripts/install-deps.sh installs it there).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ViewLab } from "../../src/view/lab.js";
import { startViewServer, type ViewServer } from "../../src/view/server.js";
import { type Browser, browserMissing, launchBrowser } from "../browser.js";
import { underCi } from "../reallab/gate.js";
import { FakeLab, fakePlan } from "./view-fake.js";

const missing = browserMissing();
if (missing && !underCi()) console.log(`[browser] skipped: the live page in a browser: ${missing}`);
const suite = missing && !underCi() ? describe.skip : describe;

const status = (page: Page, selector: string): Promise<string | null> => page.getAttribute(`#topology ${selector}`, "data-status");

suite("the live page in a real browser (an in-memory lab)", () => {
  const dir = mkdtempSync(join(tmpdir(), "view-page-"));
  const fake = new FakeLab();
  const servers: ViewServer[] = [];
  let browser: Browser;
  let url = "";

  async function serve(lab: FakeLab, o: { listen?: string; token?: string } = {}): Promise<ViewServer> {
    const view = new ViewLab(fakePlan(), lab, { source: { kind: "default" }, verifyFile: join(dir, `verify-${servers.length}.json`) });
    await view.refresh();
    const s = await startViewServer(view, { listen: o.listen ?? "127.0.0.1", port: 0, ...(o.token ? { token: o.token } : {}) });
    servers.push(s);
    return s;
  }

  beforeAll(async () => {
    if (missing) throw new Error(`[browser] cannot run under CI: ${missing}`);
    url = (await serve(fake)).url;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("before any verification: the containers with their addresses, everything grey, and why", async () => {
    const page = browser.page;
    await page.goto(url);
    await page.waitForSelector("body[data-ready]");
    expect(await page.textContent("#lab-title")).toBe("Lab lab");
    const rows = await page.$$eval("#containers tbody tr", (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].slice(0, 4).map((td) => td.textContent)),
    );
    expect(rows).toEqual([
      ["test1", "host1", "running", "ov_net1 198.18.100.2"],
      ["test2", "host2", "running", "ov_net1 198.18.100.3"],
      ["test3", "host1", "running", "mv_net1 198.18.0.128"],
    ]);
    const colours = await page.$$eval("#topology [data-status]", (es) => [...new Set(es.map((e) => e.getAttribute("data-status")))]);
    expect(colours).toEqual(["notrun"]);
    expect(await page.textContent("#verified-at")).toBe("never");
    expect(await page.textContent("#verification-note")).toMatch(/no saved verification .*press "verify now"/);
    expect(await page.isHidden("#not-running")).toBe(true);
  });

  it('"verify now": progress, then every element green and a time stamp', async () => {
    const page = browser.page;
    await page.click("#verify-now");
    await page.waitForSelector("#verify-progress:has-text('done:')");
    expect(await page.getAttribute("#verified-at", "datetime")).toMatch(/^\d{4}-\d\d-\d\dT/);
    const colours = await page.$$eval("#topology [data-status]", (es) => [...new Set(es.map((e) => e.getAttribute("data-status")))]);
    expect(colours).toEqual(["pass"]);
    expect(await page.textContent("#verified-summary")).toMatch(/19 passed, 1 expected failure, 0 failed/);
  });

  it("a stopped container: it and its link turn red, the others stay green; a click lists its checks with reasons and times", async () => {
    const page = browser.page;
    fake.down.add("test1");
    await page.click("#verify-now");
    await page.waitForSelector("#verify-progress:has-text('done:')");
    expect(await page.textContent("#verify-progress")).toMatch(/10 passed, 1 expected failure, 9 failed/);
    expect(await status(page, 'g.container[data-container="test1"]')).toBe("fail");
    expect(await status(page, 'g.container[data-container="test1"] line.link[data-network="ov_net1"]')).toBe("fail");
    expect(await status(page, 'g.attachment[data-container="test1"][data-network="ov_net1"]')).toBe("fail");
    expect(await status(page, 'g.container[data-container="test3"]')).toBe("pass");
    expect(await status(page, 'g.attachment[data-container="test3"][data-network="mv_net1"]')).toBe("pass");
    // The picture says why: the container is not running.
    await page.waitForSelector('#topology g.container[data-container="test1"] .state-tag');
    expect(await page.textContent('#topology g.container[data-container="test1"] .state-tag')).toBe("exited (137)");

    await page.click('#topology g.container[data-container="test1"] > rect');
    await page.waitForSelector("#details:not([hidden])");
    expect(await page.textContent("#details-title")).toBe("container test1: 9 check(s)");
    const first = await page.$$eval("#details-checks tbody tr:first-child td", (tds) => tds.map((td) => td.textContent));
    expect(first[0]).toBe("FAIL");
    expect(first[2]).toMatch(/\w/); // why it is expected
    expect(first[3]).toBe("test1 is not running");
    expect(first[4]).toBe("0.04 s");
    // A link: the checks of test3 on mv_net1 include the expected failure.
    await page.click('#topology g.attachment[data-container="test3"][data-network="mv_net1"] circle');
    await page.waitForFunction(() => document.querySelector("#details-title")?.textContent?.startsWith("link test3@mv_net1"));
    expect(await page.textContent('#details-checks tr[data-check="host-ping:host1->test3@mv_net1"]')).toMatch(
      /expected failure.*\(expected to fail\)/,
    );
  });

  it("picking two containers in the picture traces between them: stopped at its hop with the cause, then the whole path", async () => {
    const page = browser.page;
    await page.click("#trace-pick");
    await page.click('#topology g.container[data-container="test2"] > rect');
    expect(await page.textContent("#trace-status")).toMatch(/from test2: now pick the destination/);
    await page.click('#topology g.container[data-container="test1"] > rect');
    await page.waitForSelector("#trace-path .stop-mark");
    expect(await page.getAttribute("#trace-path g.hop[data-hop='host1/overlay/vxlan']", "data-status")).toBe("seen");
    expect(await page.textContent("#trace-path .cause")).toMatch(/test1 is exited \(137\)/);
    expect(await page.$$eval("#trace-path circle.not-seen", (cs) => cs.length)).toBe(2);
    expect(await page.textContent("#trace-hops li.stop")).toMatch(/^vxlan0 .*stopped here: last seen at vxlan0/);
    expect(await page.isVisible("#trace-svg svg")).toBe(true);

    fake.down.delete("test1");
    await page.selectOption("#trace-from", "test2");
    await page.selectOption("#trace-to", "test1");
    await page.click("#trace-run");
    await page.waitForFunction(() => document.querySelector("#trace-summary")?.textContent?.includes("delivered and answered"));
    expect(await page.$$eval("#trace-path g.hop", (gs) => gs.map((g) => g.getAttribute("data-status")))).toEqual(Array(10).fill("seen"));
    expect(await page.$$("#trace-path .stop-mark")).toHaveLength(0);
  });

  it("without a running lab: says so, with the command that starts it; no action offered", async () => {
    const down = new FakeLab();
    down.running = false;
    const s = await serve(down);
    const page = await browser.context.newPage();
    await page.goto(s.url);
    await page.waitForSelector("body[data-ready]");
    expect(await page.isVisible("#not-running")).toBe(true);
    expect(await page.textContent("#not-running-reason")).toMatch(/host1: .*connect ENOENT/);
    expect(await page.textContent("#start-commands")).toBe("sudo npm run lab -- up");
    expect(await page.isDisabled("#verify-now")).toBe(true);
    expect(await page.isDisabled("#trace-run")).toBe(true);
    await page.close();
  });

  it("behind a token (a non-loopback bind): the printed URL opens the page, whose own requests and event stream then pass", async () => {
    const lab = new FakeLab();
    const s = await serve(lab, { listen: "0.0.0.0", token: "page-test-token" });
    const page = await browser.context.newPage();
    const bare = await page.goto(`http://127.0.0.1:${s.port}/`);
    expect(bare?.status()).toBe(401);
    await page.goto(s.openUrl.replace("0.0.0.0", "127.0.0.1"));
    await page.waitForSelector("body[data-ready]");
    await page.click("#verify-now");
    await page.waitForSelector("#verify-progress:has-text('done:')");
    expect(lab.verifications).toBe(1);
    expect(await status(page, 'g.container[data-container="test2"]')).toBe("pass");
    await page.close();
  });
});
