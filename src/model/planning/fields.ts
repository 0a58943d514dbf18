// The readers every planning stage shares: each checks one value of the config and reports a problem
// (the key, the value, what is wrong and the fix) into the stage's collector, returning a usable
// fallback so that the other stages still run and one error lists every problem.
import { IMAGES } from "../defaults.js";
import { nearest, type Problems } from "../errors.js";
import { isBusyboxImage, isImageRef } from "../images.js";
import { type Cidr, contains, containsCidr, formatCidr, LAB_RANGE, lastAddress, parseCidr, parseIp, size, split } from "../ip.js";

export const K = (path: string): string => `lab:${path}`;

export const NAME_RE = /^[a-z][a-z0-9-]{0,15}$/;

export const HOST_RE = /^[a-z][a-z0-9-]{0,31}$/;

export const NET_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;

export const IFACE_RE = /^[A-Za-z][A-Za-z0-9_-]{0,10}$/;

export const CONTAINER_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export const LAB_RANGE_TEXT = formatCidr(LAB_RANGE);

export function oneOf<T extends string>(p: Problems, key: string, value: unknown, allowed: readonly T[], fallback: T, what: string): T {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  p.add(K(key), value, `unknown ${what}`, `use one of ${allowed.join(", ")}`);
  return fallback;
}

/** A lab address: a valid IPv4 inside 198.18.0.0/15 (lab traffic must never leave that range). */
export function labIp(p: Problems, key: string, value: unknown): number | undefined {
  if (typeof value !== "string" || parseIp(value) === undefined) {
    p.add(K(key), value, "not an IPv4 address", "write it as a.b.c.d, e.g. 198.18.0.11");
    return undefined;
  }
  const ip = parseIp(value)!;
  if (!contains(LAB_RANGE, ip)) {
    p.add(K(key), value, `outside the lab range ${LAB_RANGE_TEXT}`, `use an address in ${LAB_RANGE_TEXT}`);
    return undefined;
  }
  return ip;
}

export function labCidr(p: Problems, key: string, value: unknown): Cidr | undefined {
  const c = typeof value === "string" ? parseCidr(value) : undefined;
  if (c === undefined) {
    p.add(K(key), value, "not a CIDR block (or host bits are set)", "write it as a.b.c.d/n with a network address, e.g. 198.18.100.0/24");
    return undefined;
  }
  if (!containsCidr(LAB_RANGE, c)) {
    p.add(K(key), value, `outside the lab range ${LAB_RANGE_TEXT}`, `choose a block inside ${LAB_RANGE_TEXT}`);
    return undefined;
  }
  return c;
}

export function int(p: Problems, key: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) return value;
  p.add(K(key), value, `must be an integer from ${min} to ${max}`, `set a whole number between ${min} and ${max}`);
  return fallback;
}

export function str(p: Problems, key: string, value: unknown, re: RegExp, fallback: string, rule: string): string {
  if (value === undefined) return fallback;
  if (typeof value === "string" && re.test(value)) return value;
  p.add(K(key), value, `invalid name (${rule})`, `rename it to match ${re.source}`);
  return fallback;
}

export function list<T>(p: Problems, key: string, value: unknown, fallback: readonly unknown[]): T[] {
  if (value === undefined) return structuredClone([...fallback]) as T[];
  if (Array.isArray(value)) return value as T[];
  p.add(K(key), value, "must be a list", "write it as a YAML/JSON list");
  return [];
}

export function obj<T extends object>(p: Problems, key: string, value: unknown): T {
  if (value === undefined) return {} as T;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as T;
  p.add(K(key), value, "must be an object", "write it as a YAML/JSON mapping");
  return {} as T;
}

export const ROOT = "(root)";

/** An object of the schema: like obj, and every key outside `keys` is refused (buildPlan would ignore it). */
export function section<T extends object>(p: Problems, key: string, value: unknown, keys: readonly (keyof T & string)[]): T {
  const o = obj<T>(p, key, value);
  unknownKeys(p, key, o, keys);
  return o;
}

export function unknownKeys(p: Problems, key: string, o: object, keys: readonly string[]): void {
  const at = (k: string): string => K(key === ROOT ? k : `${key}.${k}`);
  for (const [k, v] of Object.entries(o)) {
    if (keys.includes(k)) continue;
    const near = nearest(k, keys);
    if (near !== undefined) p.add(at(k), v, `unknown key (did you mean ${at(near)}?)`, `rename it to ${at(near)}, or remove it`);
    else
      p.add(at(k), v, "unknown key", `remove it; the valid keys ${key === ROOT ? "of lab:* are" : `of ${K(key)} are`} ${keys.join(", ")}`);
  }
}

export function usableHosts(c: Cidr): number {
  return Math.max(0, size(c) - 2);
}

/** An image reference; the fallback when it is absent (or wrong, which is reported). */
export function imageRef(p: Problems, key: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value === "string" && isImageRef(value)) return value;
  p.add(
    K(key),
    value,
    "not an image reference",
    "write it as [registry[:port]/]repository[:tag] in lowercase, e.g. registry.example.com/mirror/busybox:1.36.1",
  );
  return fallback;
}

/** netns hosts have no registry: their images are built from busybox-static, so only busybox names exist. */
export function netnsBusybox(p: Problems, key: string, value: unknown): void {
  if (typeof value === "string" && !isBusyboxImage(value)) {
    p.add(
      K(key),
      value,
      "netns labs have no registry: only busybox images, built locally from busybox-static, exist",
      `remove it (default ${IMAGES.busybox}) or use a busybox:<tag> name`,
    );
  }
}

/** A subnet's gateway: its first address unless given. An unusable one is returned all the same: it is reported here, and no plan is built while a problem stands. */
export function gatewayOf(p: Problems, key: string, subnet: Cidr, value: unknown, inside: string): number | undefined {
  const gw = value === undefined ? subnet.base + 1 : labIp(p, key, value);
  if (gw !== undefined && !insideUsable(subnet, gw)) {
    p.add(K(key), value, `not a usable address of ${formatCidr(subnet)}`, `pick an address inside ${inside}`);
  }
  return gw;
}

export function insideUsable(c: Cidr, ip: number): boolean {
  return ip > c.base && ip < lastAddress(c);
}

export function split24(c: Cidr): Cidr[] {
  return c.prefix > 24 ? [] : split(c, 2 ** (24 - c.prefix));
}
