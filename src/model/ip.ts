// IPv4 arithmetic for address planning. Pure and dependency-free: the lab only plans IPv4.

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefix: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIp(text: string): number | undefined {
  const m = IPV4.exec(text.trim());
  if (!m) return undefined;
  const parts = m.slice(1, 5).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "a.b.c.d/n"; rejects host bits set so that a typo is never silently widened. */
export function parseCidr(text: string): Cidr | undefined {
  const [ip, len, ...rest] = text.trim().split("/");
  if (ip === undefined || len === undefined || rest.length > 0 || !/^\d{1,2}$/.test(len)) return undefined;
  const prefix = Number(len);
  const addr = parseIp(ip);
  if (addr === undefined || prefix > 32) return undefined;
  if ((addr & maskOf(prefix)) >>> 0 !== addr) return undefined;
  return { base: addr, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function lastAddress(c: Cidr): number {
  return c.base + size(c) - 1;
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip <= lastAddress(c);
}

export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.base >= outer.base && lastAddress(inner) <= lastAddress(outer);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base <= lastAddress(b) && b.base <= lastAddress(a);
}

/** Splits `c` into 2^k equal blocks, enough for `count` parts. */
export function split(c: Cidr, count: number): Cidr[] {
  const bits = Math.ceil(Math.log2(Math.max(1, count)));
  const prefix = c.prefix + bits;
  if (prefix > 32) return [];
  const step = 2 ** (32 - prefix);
  return Array.from({ length: 2 ** bits }, (_, i) => ({ base: c.base + i * step, prefix }));
}

/** The range reserved for benchmarking (RFC 2544): the only addresses lab traffic may use. */
export const LAB_RANGE: Cidr = { base: parseIp("198.18.0.0")!, prefix: 15 };
