// Every relative link of README.md and docs/*.md leads somewhere: to a file of the repository, and to a
// heading of that file where the link names an anchor (GitHub's slugs). A page that moves or a heading
// that is renamed fails here, not in a reader's browser.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/lab/run.js";

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
function slugs(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fence = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    if (fence) continue;
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1]!
      .replace(/`/g, "")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/<[^>]+>/g, "");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The relative links of a markdown text (not inside code), with their line numbers. */
function relativeLinks(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  let fence = false;
  markdown.split("\n").forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    if (fence) return;
    const prose = line.replace(/`[^`]*`/g, "");
    for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: ...
      out.push({ target, line: i + 1 });
    }
  });
  return out;
}

function markdownFiles(): string[] {
  const docs = join(REPO_ROOT, "docs");
  const pages = existsSync(docs)
    ? readdirSync(docs)
        .filter((f) => f.endsWith(".md"))
        .map((f) => join(docs, f))
    : [];
  return [join(REPO_ROOT, "README.md"), ...pages];
}

describe("links in README.md and docs/", () => {
  it("every relative link resolves to a file, and to a heading where it names one", () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = readFileSync(file, "utf8");
      for (const { target, line } of relativeLinks(text)) {
        const [path, anchor] = target.split("#") as [string, string | undefined];
        const dest = path === "" ? file : join(dirname(file), decodeURIComponent(path));
        const where = `${relative(REPO_ROOT, file)}:${line} -> ${target}`;
        if (!existsSync(dest)) {
          broken.push(`${where}: no such file`);
          continue;
        }
        if (anchor !== undefined && statSync(dest).isFile() && dest.endsWith(".md") && !slugs(readFileSync(dest, "utf8")).has(anchor)) {
          broken.push(`${where}: no heading with that anchor in ${relative(REPO_ROOT, dest)}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it("the slugs are GitHub's, and the link reader skips code and absolute URLs", () => {
    expect([...slugs("# Quick start\n## The dind kind, for real\n## Quick start\n```\n# not a heading\n```\n### `npm run view`")]).toEqual([
      "quick-start",
      "the-dind-kind-for-real",
      "quick-start-1",
      "npm-run-view",
    ]);
    expect(relativeLinks("see [a](docs/a.md#x) and [b](https://x.org) `[c](nope.md)`\n```\n[d](code.md)\n```")).toEqual([
      { target: "docs/a.md#x", line: 1 },
    ]);
  });
});
