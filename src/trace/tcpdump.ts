// Reading `tcpdump -e -n -v -l` text (pure). A frame is a header line (timestamp, MACs, the IP header in
// parentheses) and an indented line (addresses and the protocol). A VXLAN frame's indented line says
// "VXLAN, ... vni N", and the encapsulated frame follows as a header line without a timestamp.
import type { CapturedPacket } from "./types.js";

interface EthIp {
  time: string;
  srcMac: string;
  dstMac: string;
  ttl: number;
  ipId: number;
  ipLength: number;
}

const HEADER =
  /^(?:(\d{2}:\d{2}:\d{2}\.\d+)\s+)?([0-9a-f]{2}(?::[0-9a-f]{2}){5}) > ([0-9a-f]{2}(?::[0-9a-f]{2}){5}), ethertype IPv4 \(0x0800\), length \d+: \((.*)\)\s*$/;
const BODY = /^\s+(\d+\.\d+\.\d+\.\d+)(?:\.(\d+))? > (\d+\.\d+\.\d+\.\d+)(?:\.(\d+))?: (.*)$/;

function ipHeader(fields: string): { ttl: number; ipId: number; ipLength: number } | undefined {
  const ttl = /\bttl (\d+)/.exec(fields);
  const id = /\bid (\d+)/.exec(fields);
  // The IP total length is the last "length" in the parentheses (after "proto X (n)").
  const len = /\blength (\d+)\s*$/.exec(fields);
  if (!ttl || !id || !len) return undefined;
  return { ttl: Number(ttl[1]), ipId: Number(id[1]), ipLength: Number(len[1]) };
}

function icmpOf(rest: string): { icmp: string; icmpId?: number; seq?: number } | undefined {
  const m = /^ICMP ([a-z ]+?)(?:, id (\d+), seq (\d+))?, length \d+/.exec(rest) ?? /^ICMP (.+?)(?:, length \d+)?$/.exec(rest);
  if (!m) return undefined;
  return {
    icmp: m[1]!.trim(),
    ...(m[2] !== undefined ? { icmpId: Number(m[2]) } : {}),
    ...(m[3] !== undefined ? { seq: Number(m[3]) } : {}),
  };
}

/** Every ICMP frame in the text, plain or inside VXLAN; anything else (ARP, other UDP) is skipped. */
export function parseTcpdump(text: string): CapturedPacket[] {
  const out: CapturedPacket[] = [];
  let head: EthIp | undefined;
  let outer: (EthIp & { srcIp: string; dstIp: string; srcPort: number; dstPort: number; vni: number }) | undefined;
  for (const line of text.split("\n")) {
    const h = HEADER.exec(line);
    if (h) {
      const ip = ipHeader(h[4]!);
      // A header without a timestamp continues the VXLAN frame before it; with one, a new frame starts.
      if (h[1] !== undefined) outer = undefined;
      head = ip ? { time: h[1] ?? outer?.time ?? "", srcMac: h[2]!, dstMac: h[3]!, ...ip } : undefined;
      continue;
    }
    const b = BODY.exec(line);
    if (!b || !head) continue;
    const rest = b[5]!;
    const vxlan = /^VXLAN, flags \[[^\]]*\] \([^)]*\), vni (\d+)/.exec(rest);
    if (vxlan) {
      outer = { ...head, srcIp: b[1]!, dstIp: b[3]!, srcPort: Number(b[2] ?? 0), dstPort: Number(b[4] ?? 0), vni: Number(vxlan[1]) };
      head = undefined;
      continue;
    }
    const icmp = icmpOf(rest);
    if (icmp) {
      out.push({
        ...head,
        srcIp: b[1]!,
        dstIp: b[3]!,
        ...icmp,
        ...(outer
          ? {
              vxlan: {
                vni: outer.vni,
                srcMac: outer.srcMac,
                dstMac: outer.dstMac,
                srcIp: outer.srcIp,
                dstIp: outer.dstIp,
                srcPort: outer.srcPort,
                dstPort: outer.dstPort,
                ttl: outer.ttl,
              },
            }
          : {}),
      });
    }
    head = undefined;
  }
  return out;
}

export interface TcpdumpStatus {
  /** "listening on <dev>" was printed: the capture was running. */
  listening: boolean;
  /** "N packets captured" at exit. */
  captured?: number;
  /** Why tcpdump could not capture ("v-host1: That device is not up"). */
  error?: string;
}

/** tcpdump's stderr: whether it listened, how much it captured, or why it failed. */
export function parseTcpdumpStatus(stderr: string): TcpdumpStatus {
  const s: TcpdumpStatus = { listening: /^tcpdump: listening on /m.test(stderr) || /^listening on /m.test(stderr) };
  const c = /^(\d+) packets? captured/m.exec(stderr);
  if (c) s.captured = Number(c[1]);
  const e = /^tcpdump: (?!listening on |verbose output suppressed)(.+)$/m.exec(stderr);
  if (e && !s.listening) s.error = e[1]!.trim();
  return s;
}

/** A capture error that says the device is down: the link is cut there. */
export function isDeviceDown(error: string | undefined): boolean {
  return error !== undefined && /device is not up/i.test(error);
}
