// tcpdump's text as the trace reads it, against real captures recorded on a netns lab of this machine
// (tests/unit/fixtures/trace: `tcpdump -e -n -v -l` stdout and stderr, one pair per capture point).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isDeviceDown, parseTcpdump, parseTcpdumpStatus } from "../../src/trace/tcpdump.js";

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/trace/${name}`, import.meta.url), "utf8");

describe("parseTcpdump", () => {
  it("reads a container's eth0: MACs, IPs, TTL, IP id and length, ICMP type, id and seq", () => {
    const p = parseTcpdump(fixture("overlay-container-eth0.stdout"));
    expect(p).toHaveLength(4);
    expect(p[0]).toEqual({
      time: "11:44:03.123727",
      srcMac: "02:42:c6:12:64:03",
      dstMac: "02:42:c6:12:64:02",
      srcIp: "198.18.100.3",
      dstIp: "198.18.100.2",
      ttl: 64,
      ipId: 7941,
      ipLength: 1262,
      icmp: "echo request",
      icmpId: 58,
      seq: 0,
    });
    expect(p.map((x) => [x.icmp, x.seq])).toEqual([
      ["echo request", 0],
      ["echo reply", 0],
      ["echo request", 1],
      ["echo reply", 1],
    ]);
    expect(p.every((x) => x.vxlan === undefined)).toBe(true);
  });

  it("reads VXLAN on the underlay: the outer MACs, addresses, ports, TTL and VNI, and the inner frame", () => {
    const p = parseTcpdump(fixture("overlay-underlay-eth0.stdout"));
    expect(p).toHaveLength(4);
    expect(p[0]).toMatchObject({
      time: "11:44:03.123755",
      srcMac: "02:42:c6:12:64:03",
      dstMac: "02:42:c6:12:64:02",
      srcIp: "198.18.100.3",
      dstIp: "198.18.100.2",
      ttl: 64,
      ipLength: 1262,
      icmp: "echo request",
      vxlan: {
        vni: 256,
        srcMac: "92:e7:a1:64:65:a4",
        dstMac: "be:83:33:69:8c:4f",
        srcIp: "198.18.0.12",
        dstIp: "198.18.0.11",
        srcPort: 43477,
        dstPort: 4789,
        ttl: 64,
      },
    });
    expect(p[1]).toMatchObject({
      icmp: "echo reply",
      srcIp: "198.18.100.2",
      vxlan: { srcIp: "198.18.0.11", dstIp: "198.18.0.12", vni: 256 },
    });
  });

  it("reads the way out: the container's gwbridge address before NAT, the host's after it, one TTL less", () => {
    const inside = parseTcpdump(fixture("external-eth1.stdout"));
    const outside = parseTcpdump(fixture("external-underlay-eth0.stdout"));
    expect(inside.map((x) => [x.icmp, x.srcIp, x.dstIp, x.ttl])).toEqual([
      ["echo request", "198.19.128.2", "198.18.0.2", 64],
      ["echo reply", "198.18.0.2", "198.19.128.2", 63],
    ]);
    expect(outside.map((x) => [x.icmp, x.srcIp, x.dstIp, x.ttl])).toEqual([
      ["echo request", "198.18.0.12", "198.18.0.2", 63],
      ["echo reply", "198.18.0.2", "198.18.0.12", 64],
    ]);
  });

  it("reads a macvlan parent: the child's own MAC on the wire", () => {
    const p = parseTcpdump(fixture("macvlan-parent-eth0.stdout"));
    expect(p.map((x) => [x.srcMac, x.srcIp, x.icmp])).toEqual([
      ["02:42:c6:12:00:80", "198.18.0.128", "echo request"],
      ["02:42:c6:12:00:c0", "198.18.0.192", "echo reply"],
    ]);
  });

  it("skips what is not ICMP (ARP, other UDP) and survives garbage", () => {
    const text = [
      "11:44:03.000001 02:42:c6:12:64:03 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Ethernet (len 6), IPv4 (len 4), Request who-has 198.18.100.2 tell 198.18.100.3, length 28",
      "11:44:03.000002 02:42:c6:12:64:03 > 02:42:c6:12:64:02, ethertype IPv4 (0x0800), length 74: (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto UDP (17), length 60)",
      "    198.18.100.3.40000 > 198.18.100.2.53: 1+ A? test1. (32)",
      "not tcpdump at all",
      "",
    ].join("\n");
    expect(parseTcpdump(text)).toEqual([]);
    expect(parseTcpdump("")).toEqual([]);
  });
});

describe("parseTcpdumpStatus", () => {
  it("a capture that ran: listening, and how many packets it captured", () => {
    expect(parseTcpdumpStatus(fixture("overlay-vxlan0.stderr"))).toEqual({ listening: true, captured: 4 });
  });

  it("a device that is down, and one that does not exist: the error, not listening", () => {
    const down = parseTcpdumpStatus(fixture("error-device-down.stderr"));
    expect(down).toEqual({ listening: false, error: "v-host1: That device is not up" });
    expect(isDeviceDown(down.error)).toBe(true);
    const missing = parseTcpdumpStatus(fixture("error-no-device.stderr"));
    expect(missing).toEqual({ listening: false, error: "nosuch0: No such device exists" });
    expect(isDeviceDown(missing.error)).toBe(false);
  });
});
