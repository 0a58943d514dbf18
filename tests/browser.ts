// A real browser for the page tests: Debian's chromium (scripts/install-deps.sh installs it), driven by
// playwright-core, which never downloads a browser of its own. Each launch gets a fresh profile
// directory, removed on close; the flags keep chromium from any connection of its own (updates, sync,
// metrics), which this machine's network refuses anyway.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env["DNLAB_CHROMIUM"] ?? "/usr/bin/chromium";

export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

/** Why the browser tests cannot run here, or undefined. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no chromium at ${CHROMIUM} (scripts/install-deps.sh installs Debian's chromium)`;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** chromium with a fresh --user-data-dir (playwright passes it as that flag). */
export async function launchBrowser(viewport = { width: 1500, height: 1000 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "dnlab-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS],
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * How much a screenshot varies: the standard deviation of its pixels' grey levels (0-255), computed by
 * the browser itself from the PNG (no image decoder needed here). A blank page is 0.
 */
export async function pixelDeviation(context: BrowserContext, png: Buffer): Promise<number> {
  const p = await context.newPage();
  try {
    return await p.evaluate(async (b64: string) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement("canvas");
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext("2d")!;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let sum = 0;
      let sq = 0;
      const n = d.length / 4;
      for (let i = 0; i < d.length; i += 4) {
        const g = 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
        sum += g;
        sq += g * g;
      }
      const mean = sum / n;
      return Math.sqrt(Math.max(0, sq / n - mean * mean));
    }, png.toString("base64"));
  } finally {
    await p.close();
  }
}
