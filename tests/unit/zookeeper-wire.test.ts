// src/model/zookeeper.ts: the ZooKeeper session the lab sends through busybox nc, and its reading of
// the answer. The request bytes are checked field by field against the protocol; the answers are
// built here the way the server frames them (tests/reallab/zookeeper.test.ts reads a real server).
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  bytesFromOdHex,
  kvRecordRead,
  parseZkSession,
  printfEscape,
  ZK_NO_NODE,
  type ZkRequest,
  zkPath,
  zkPingBytes,
  zkSessionBytes,
  zkSessionCommand,
} from "../../src/model/index.js";

const int = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const long = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
};
const str = (s: string): Buffer => Buffer.concat([int(Buffer.byteLength(s)), Buffer.from(s)]);
const packet = (...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([int(body.length), body]);
};
/** What a server sends: its connect answer, then one reply per xid. */
const connectAnswer = (session: bigint): Buffer => packet(int(0), int(10_000), long(session), str("x".repeat(16)), Buffer.from([0]));
const reply = (xid: number, err: number, ...body: Buffer[]): Buffer => packet(int(xid), long(7n), int(err), ...body);
const STAT = Buffer.alloc(68);
const od = (b: Buffer): string =>
  [...b]
    .map((x, i) => `${i % 16 === 0 ? "\n" : " "}${x.toString(16).padStart(2, "0")}`)
    .join("")
    .trimStart();

describe("the session's bytes", () => {
  const requests: ZkRequest[] = [
    { op: "getData", path: "/docker/nodes" },
    { op: "getChildren", path: "/docker" },
  ];
  const bytes = zkSessionBytes(requests);

  it("connect (protocol 0, 10 s, no session, 16-byte password, not read-only), the requests with xid 1..n, closeSession", () => {
    expect(bytes.subarray(0, 49)).toEqual(
      Buffer.concat([int(45), int(0), long(0n), int(10_000), long(0n), int(16), Buffer.alloc(16), Buffer.from([0])]),
    );
    let at = 49;
    const next = (): Buffer => {
      const len = bytes.readInt32BE(at);
      const p = bytes.subarray(at + 4, at + 4 + len);
      at += 4 + len;
      return p;
    };
    expect(next()).toEqual(Buffer.concat([int(1), int(4), str("/docker/nodes"), Buffer.from([0])]));
    expect(next()).toEqual(Buffer.concat([int(2), int(8), str("/docker"), Buffer.from([0])]));
    expect(next()).toEqual(Buffer.concat([int(3), int(-11)]));
    expect(at).toBe(bytes.length);
    expect(zkPingBytes()).toEqual(Buffer.concat([int(8), int(-2), int(11)]));
  });

  it("survives printf unchanged: every byte an octal escape (NUL, %, backslash and quotes included)", () => {
    const tricky = Buffer.from([0, 37, 92, 34, 39, 10, 255, 65]);
    expect(printfEscape(tricky)).toBe("\\000\\045\\134\\042\\047\\012\\377\\101");
    const out = execFileSync("sh", ["-c", 'printf "$1"', "sh", printfEscape(Buffer.concat([tricky, bytes]))]);
    expect(out).toEqual(Buffer.concat([tricky, bytes]));
  });

  it("the command: printf into nc, pings while the server has not closed, od out; under timeout", () => {
    const cmd = zkSessionCommand("198.18.0.2", 2181, requests, 5);
    expect(cmd.slice(0, 5)).toEqual(["timeout", "5", "sh", "-c", cmd[4]]);
    expect(cmd[4]).toContain('| nc "$3" "$4" | od -An -v -tx1');
    expect(cmd.slice(5)).toEqual(["sh", printfEscape(bytes), printfEscape(zkPingBytes()), "198.18.0.2", "2181"]);
  });
});

describe("reading the answer", () => {
  const requests: ZkRequest[] = [
    { op: "getData", path: "/docker/network/v1.0/overlay/network/abc" },
    { op: "getData", path: "/docker/nope" },
    { op: "getChildren", path: "/docker/nodes" },
    { op: "getData", path: "/docker" },
  ];
  const record = '{"subnets":[{"SubnetIP":"198.18.100.0/24","GwIP":"198.18.100.1/24","Vni":256}]}';
  const answer = Buffer.concat([
    connectAnswer(0x100000abcn),
    reply(1, 0, str(record), STAT),
    reply(-2, 0), // a ping's answer may come in between
    reply(2, ZK_NO_NODE),
    reply(3, 0, int(2), str("198.18.0.12:2376"), str("198.18.0.11:2376")),
    reply(4, 0, int(-1), STAT),
    reply(5, 0), // closeSession
  ]);

  it("od's hex back into bytes, and each reply to its request: data, no node, sorted children, a node without data", () => {
    expect(bytesFromOdHex(od(answer))).toEqual(answer);
    expect(parseZkSession(bytesFromOdHex(od(answer)), requests)).toEqual([
      { path: requests[0]!.path, op: "getData", err: 0, data: record },
      { path: "/docker/nope", op: "getData", err: ZK_NO_NODE },
      { path: "/docker/nodes", op: "getChildren", err: 0, children: ["198.18.0.11:2376", "198.18.0.12:2376"] },
      { path: "/docker", op: "getData", err: 0, data: null },
    ]);
  });

  it("no answer, a refused session or a cut answer is an error, never an empty store", () => {
    expect(() => parseZkSession(Buffer.alloc(0), requests)).toThrow(/sent nothing/);
    expect(() => parseZkSession(connectAnswer(0n), requests)).toThrow(/refused the session/);
    expect(() => parseZkSession(answer.subarray(0, answer.length - 40), requests)).toThrow(/cut short/);
    expect(() => bytesFromOdHex("<html>")).toThrow(/not od -tx1 output/);
  });

  it("the overlay record of a network is read with one getData, and its text is what vniFromKvRecord reads", () => {
    const read = kvRecordRead({ kind: "zookeeper", address: "198.18.0.2", port: 2181 }, "abc", 5)!;
    expect(read.argv).toEqual(
      zkSessionCommand("198.18.0.2", 2181, [{ op: "getData", path: "/docker/network/v1.0/overlay/network/abc" }], 5),
    );
    const one = Buffer.concat([connectAnswer(5n), reply(1, 0, str(record), STAT), reply(2, 0)]);
    expect(read.record(od(one))).toBe(record);
    expect(read.record(od(Buffer.concat([connectAnswer(5n), reply(1, ZK_NO_NODE), reply(2, 0)])))).toBeUndefined();
    // Consul and etcd: busybox wget of the record's URL, its output as it is.
    const etcd = kvRecordRead({ kind: "etcd", address: "198.18.0.2", port: 2379 }, "abc", 3)!;
    expect(etcd.argv).toEqual([
      "timeout",
      "3",
      "wget",
      "-q",
      "-O",
      "-",
      "http://198.18.0.2:2379/v2/keys/docker/network/v1.0/overlay/network/abc",
    ]);
    expect(etcd.record("x")).toBe("x");
  });

  it("libkv keys map to ZooKeeper paths", () => {
    expect(zkPath("docker/nodes/")).toBe("/docker/nodes");
    expect(zkPath("/docker/network/v1.0/network/id")).toBe("/docker/network/v1.0/network/id");
  });
});
