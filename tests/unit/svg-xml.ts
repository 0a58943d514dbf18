// Reading the generated SVG pictures back in tests: a strict XML parse and a few DOM queries.
import { DOMParser, type Document, type Element } from "@xmldom/xmldom";
import { expect } from "vitest";

/**
 * Strict XML parse: any warning or error from xmldom counts. xmldom lets a bare "& " through, which
 * XML forbids, so every "&" is also checked to start an entity reference.
 */
export function parseXml(xml: string): { doc?: Document; problems: string[] } {
  const problems: string[] = [];
  const bareAmp = /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.exec(xml);
  if (bareAmp) problems.push(`bare & at ${bareAmp.index}`);
  try {
    const doc = new DOMParser({ onError: (level, msg) => void problems.push(`${level}: ${msg}`) }).parseFromString(xml, "image/svg+xml");
    return { doc, problems };
  } catch (e) {
    problems.push(String(e));
    return { problems };
  }
}

export function svgDoc(xml: string): Document {
  const { doc, problems } = parseXml(xml);
  expect(problems).toEqual([]);
  expect(doc?.documentElement?.tagName).toBe("svg");
  expect(doc?.documentElement?.namespaceURI).toBe("http://www.w3.org/2000/svg");
  return doc!;
}

export function elements(root: Document | Element, tag: string): Element[] {
  return Array.from(root.getElementsByTagName(tag));
}

export function groups(doc: Document, cls: string): Element[] {
  return elements(doc, "g").filter((g) => g.getAttribute("class") === cls);
}

export function texts(root: Document | Element): string[] {
  return elements(root, "text").map((t) => t.textContent ?? "");
}
