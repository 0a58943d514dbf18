import { describe, expect, it } from "vitest";
import { demux } from "../../src/docker/engine.js";
import {
  findVxlanDevice,
  ipInSubnet,
  overlaySandboxName,
  pickOverlaySandbox,
  parseDefaultRoute,
  parseIpAddr,
  parseIpLink,
  parseNslookup,
  parsePing,
  parseProcNetDev,
  vniFromKvRecord,
  vniFromOptions,
} from "../../src/verify/parse.js";

describe("parsePing", () => {
  it("reads busybox's reply line, the resolved address and the rtt", () => {
    const r = parsePing(
      "PING test1 (198.18.100.2): 56 data bytes\n64 bytes from 198.18.100.2: seq=0 ttl=64 time=1.333 ms\n\n--- test1 ping statistics ---\n1 packets transmitted, 1 packets received, 0% packet loss\nround-trip min/avg/max = 1.333/1.333/1.333 ms\n",
    );
    expect(r).toEqual({ resolved: "198.18.100.2", replyFrom: "198.18.100.2", replies: 1, transmitted: 1, rttMs: 1.333, rtts: [1.333] });
  });
  it("reads iputils' `name (ip)` reply form", () => {
    const r = parsePing(
      "PING test1 (198.18.100.2) 56(84) bytes of data.\n64 bytes from test1.ov_net1 (198.18.100.2): icmp_seq=1 ttl=64 time=0.05 ms\n\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\n",
    );
    expect(r.replyFrom).toBe("198.18.100.2");
    expect(r.replies).toBe(1);
  });
  it("counts no reply on loss and reports a name that does not resolve", () => {
    const loss = parsePing(
      "PING 198.18.0.128 (198.18.0.128): 56 data bytes\n\n--- 198.18.0.128 ping statistics ---\n1 packets transmitted, 0 packets received, 100% packet loss\n",
    );
    expect(loss.replies).toBe(0);
    expect(loss.replyFrom).toBeUndefined();
    expect(parsePing("ping: bad address 'test9'\n").resolveError).toBe("bad address 'test9'");
  });
  it("takes the first reply's source, even when a later one differs", () => {
    const r = parsePing(
      "PING x (1.1.1.1): 56 data bytes\n64 bytes from 198.18.100.9: seq=0 ttl=64 time=1 ms\n64 bytes from 198.18.100.2: seq=1 ttl=64 time=1 ms\n",
    );
    expect(r.replyFrom).toBe("198.18.100.9");
    expect(r.replies).toBe(2);
  });
});

describe("parseNslookup", () => {
  it("busybox 1.3x: answer addresses only, the server separately", () => {
    const r = parseNslookup(
      "Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\nNon-authoritative answer:\nName:\ttest1\nAddress: 198.18.100.2\n\nNon-authoritative answer:\n\n",
    );
    expect(r.server).toBe("127.0.0.11");
    expect(r.addresses).toEqual(["198.18.100.2"]);
  });
  it("old busybox: `Address 1: ip name`", () => {
    const r = parseNslookup("Server:    127.0.0.11\nAddress 1: 127.0.0.11\n\nName:      test1\nAddress 1: 198.18.100.2 test1.ov_net1\n");
    expect(r.addresses).toEqual(["198.18.100.2"]);
    expect(r.server).toBe("127.0.0.11");
  });
  it("NXDOMAIN: no addresses and the error", () => {
    const r = parseNslookup("Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\n** server can't find test9: NXDOMAIN\n");
    expect(r.addresses).toEqual([]);
    expect(r.error).toContain("NXDOMAIN");
  });
});

describe("ip output", () => {
  it("default route: device and gateway", () => {
    expect(parseDefaultRoute("198.18.100.0/24 dev eth0 scope link  src 198.18.100.3\ndefault via 198.19.128.1 dev eth1 \n")).toEqual({
      dev: "eth1",
      via: "198.19.128.1",
    });
    expect(parseDefaultRoute("default dev wg0 scope link\n")).toEqual({ dev: "wg0" });
    expect(parseDefaultRoute("198.18.100.0/24 dev eth0\n")).toBeUndefined();
  });
  it("ip -o addr: busybox and iproute2 (with @ifN) lines", () => {
    const a = parseIpAddr(
      "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n5: eth0    inet 198.18.100.3/24 brd 198.18.100.255 scope global eth0\\ valid_lft forever\n8: eth1@if9    inet 198.19.128.2/24 scope global eth1\n3: eth2    inet6 fe80::1/64 scope link\n",
    );
    expect(a.map((x) => [x.name, x.cidr])).toEqual([
      ["lo", "127.0.0.1/8"],
      ["eth0", "198.18.100.3/24"],
      ["eth1", "198.19.128.2/24"],
    ]);
  });
  it("ip -o link: MAC per interface", () => {
    const m = parseIpLink(
      "1: lo: <LOOPBACK,UP> mtu 65536 qdisc noqueue \\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n5: eth0@if6: <BROADCAST,UP> mtu 1450 \\    link/ether 02:42:c6:12:64:03 brd ff:ff:ff:ff:ff:ff\n",
    );
    expect([...m]).toEqual([["eth0", "02:42:c6:12:64:03"]]);
  });
  it("ipInSubnet accepts host bits in the block and rejects junk", () => {
    expect(ipInSubnet("198.19.128.2", "198.19.128.0/24")).toBe(true);
    expect(ipInSubnet("198.19.128.2", "198.19.128.1/24")).toBe(true);
    expect(ipInSubnet("198.19.129.2", "198.19.128.0/24")).toBe(false);
    expect(ipInSubnet("198.19.128.2", "nonsense")).toBe(false);
  });
});

describe("/proc/net/dev and the VXLAN device", () => {
  const text =
    "Inter-|   Receive                                                |  Transmit\n" +
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
    "    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n" +
    "   br0:      28       1    0    0    0     0          0         0      108       2    0    0    0     0       0          0\n" +
    "vxlan0:     840      10    0    0    0     0          0         0      924      11    0    1    0     0       0          0\n";
  it("parses counters per device", () => {
    const d = parseProcNetDev(text);
    expect(d.get("vxlan0")).toEqual({
      rxBytes: 840,
      rxPackets: 10,
      rxErrors: 0,
      rxDropped: 0,
      txBytes: 924,
      txPackets: 11,
      txErrors: 0,
      txDropped: 1,
    });
    expect(d.has("Inter-|")).toBe(false);
  });
  it("finds vxlan0 in the sandbox (no VNI in the name) and vx-<vni>-<id> with its VNI", () => {
    expect(findVxlanDevice(parseProcNetDev(text))?.name).toBe("vxlan0");
    expect(findVxlanDevice(parseProcNetDev(text))?.vni).toBeUndefined();
    const host = parseProcNetDev(text.replace("vxlan0:", "vx-000100-1c0d2:"));
    expect(findVxlanDevice(host, "1c0d2f8d317430f7")).toMatchObject({ name: "vx-000100-1c0d2", vni: 256 });
    expect(findVxlanDevice(parseProcNetDev(text.replace("vxlan0:", "vx-000100-aaaaa:")), "1c0d2f8d3174")).toBeUndefined();
  });
  it("names the overlay sandbox <epoch>-<10 chars of the network id>, and picks the live (highest) epoch", () => {
    expect(overlaySandboxName("1c0d2f8d317430f75536324b2193dc86")).toBe("1-1c0d2f8d31");
    expect(pickOverlaySandbox(["1-1c0d2f8d31", "f061db2ba7b9", "2-1c0d2f8d31", "3-aaaaaaaaaa", ""], "1c0d2f8d317430f7")).toBe(
      "2-1c0d2f8d31",
    );
    // Past epoch 9 the name is still 12 characters: one id character fewer (seen on a real host: 13-164b1ce23).
    expect(overlaySandboxName("1c0d2f8d317430f7", 13)).toBe("13-1c0d2f8d3");
    // Swarm network ids are base 36: the sandbox is found all the same.
    expect(pickOverlaySandbox(["1-tmwjjb3vny", "ingress_sbox", "lb_tmwjjb3vn"], "tmwjjb3vny8b1tigwnrf3xpkl")).toBe("1-tmwjjb3vny");
    expect(pickOverlaySandbox(["13-1c0d2f8d3", "9-1c0d2f8d31", "13-1c0d2f8d31"], "1c0d2f8d317430f7")).toBe("13-1c0d2f8d3");
    expect(pickOverlaySandbox(["12-1c0d2f8d3"], "1c0d2f8d3ffff")).toBe("12-1c0d2f8d3");
    expect(pickOverlaySandbox(["12-1c0d2f8d4"], "1c0d2f8d317430f7")).toBeUndefined();
    expect(pickOverlaySandbox(["f061db2ba7b9"], "1c0d2f8d317430f7")).toBeUndefined();
  });
  it("VNI from etcd's v2 wrapper, consul's raw value, and swarm's network options", () => {
    const rec = JSON.stringify({ mtu: 0, secure: false, subnets: [{ SubnetIP: "198.18.100.0/24", GwIP: "198.18.100.1/24", Vni: 256 }] });
    expect(vniFromKvRecord(rec)).toBe(256);
    expect(vniFromKvRecord(JSON.stringify({ action: "get", node: { key: "/docker/...", value: rec } }))).toBe(256);
    expect(vniFromKvRecord("not json")).toBeUndefined();
    expect(vniFromOptions({ "com.docker.network.driver.overlay.vxlanid_list": "4097,4098" })).toBe(4097);
    expect(vniFromOptions(null)).toBeUndefined();
  });
});

describe("demux (exec without a TTY)", () => {
  const frame = (stream: number, text: string): Buffer => {
    const p = Buffer.from(text);
    const h = Buffer.alloc(8);
    h[0] = stream;
    h.writeUInt32BE(p.length, 4);
    return Buffer.concat([h, p]);
  };
  it("splits stdout and stderr frames, in order, across many frames", () => {
    const r = demux(Buffer.concat([frame(1, "PING "), frame(2, "warn\n"), frame(1, "ok\n"), frame(2, "")]));
    expect(r).toEqual({ stdout: "PING ok\n", stderr: "warn\n" });
  });
  it("keeps a truncated last frame and raw (TTY) output as stdout", () => {
    const cut = frame(1, "hello world").subarray(0, 12);
    expect(demux(cut).stdout).toBe("hell");
    expect(demux(Buffer.from("plain tty output\n")).stdout).toBe("plain tty output\n");
  });
});
