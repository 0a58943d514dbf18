// ZooKeeper's client protocol, just enough to read back what Docker wrote there: one session that
// asks a batch of getData / getChildren and closes itself, as bytes. ZooKeeper has no HTTP API (its
// AdminServer answers only about the server), so where the lab reads Consul and etcd with busybox
// wget it reads ZooKeeper with busybox nc: the request goes in through printf, the answer comes out
// through od as hex (binary does not survive the text channels of docker exec). Pure: the bytes and
// the command line; whoever runs the command hands its output back to parseZkSession.
//
// Wire format (jute, big-endian; every packet is prefixed with its length as int32):
//   connect    int protocolVersion, long lastZxidSeen, int timeOut, long sessionId, buffer passwd, bool readOnly
//   request    int xid, int type, then the op's fields;  reply  int xid, long zxid, int err, then the op's
//   getData     (4): string path, bool watch   -> buffer data (-1 = null), Stat (68 bytes)
//   getChildren (8): string path, bool watch   -> vector<string> children
//   closeSession (-11), ping (11, xid -2): no fields
// Replies come in request order; the server closes the connection once it has answered closeSession.

export type ZkRequest = { op: "getData"; path: string } | { op: "getChildren"; path: string };

export interface ZkReply {
  path: string;
  op: ZkRequest["op"];
  /** 0, or ZooKeeper's error code (-101: no such node). */
  err: number;
  /** getData: the node's value (null: a node without data). */
  data?: string | null;
  /** getChildren: the children's names, sorted. */
  children?: string[];
}

export const ZK_NO_NODE = -101;

const OP_CODE = { getData: 4, getChildren: 8 } as const;
const CLOSE_SESSION = -11;
const PING = 11;
const PING_XID = -2;

class Writer {
  private parts: Buffer[] = [];
  int(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  long(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }
  bool(v: boolean): this {
    this.parts.push(Buffer.from([v ? 1 : 0]));
    return this;
  }
  bytes(v: Buffer): this {
    return this.int(v.length).raw(v);
  }
  raw(v: Buffer): this {
    this.parts.push(v);
    return this;
  }
  /** The packet: its length, then its bytes. */
  packet(): Buffer {
    const body = Buffer.concat(this.parts);
    const len = Buffer.alloc(4);
    len.writeInt32BE(body.length);
    return Buffer.concat([len, body]);
  }
}

/** One session's bytes: connect, the requests (xid 1..n), closeSession (xid n+1). */
export function zkSessionBytes(requests: readonly ZkRequest[]): Buffer {
  const packets = [
    new Writer().int(0).long(0n).int(10_000).long(0n).bytes(Buffer.alloc(16)).bool(false).packet(),
    ...requests.map((r, i) =>
      new Writer()
        .int(i + 1)
        .int(OP_CODE[r.op])
        .bytes(Buffer.from(r.path, "utf8"))
        .bool(false)
        .packet(),
    ),
    new Writer()
      .int(requests.length + 1)
      .int(CLOSE_SESSION)
      .packet(),
  ];
  return Buffer.concat(packets);
}

/** A ping: what keeps nc's input open until the server has answered and closed (see zkSessionCommand). */
export function zkPingBytes(): Buffer {
  return new Writer().int(PING_XID).int(PING).packet();
}

/** Bytes as a printf format: every byte an octal escape (NUL, %, \ and quotes included). */
export function printfEscape(bytes: Buffer): string {
  return [...bytes].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("");
}

/**
 * The command that runs a session from where the store is reachable (a container on the lab's
 * network, a helper in a host's namespace): busybox sh, printf, nc and od. nc's input stays open
 * (a ping every 50 ms) until the server closes the connection after closeSession: a closed input
 * would half-close the socket, and ZooKeeper drops a connection at once on EOF, answered or not.
 * The writer then dies of SIGPIPE. `timeout` bounds the whole exchange.
 */
export function zkSessionCommand(address: string, port: number, requests: readonly ZkRequest[], timeoutSeconds: number): string[] {
  const script = '{ printf "$1"; while sleep 0.05; do printf "$2" || exit 0; done; } | nc "$3" "$4" | od -An -v -tx1';
  return [
    "timeout",
    String(timeoutSeconds),
    "sh",
    "-c",
    script,
    "sh",
    printfEscape(zkSessionBytes(requests)),
    printfEscape(zkPingBytes()),
    address,
    String(port),
  ];
}

/** od -An -tx1 output ("0a 1f ...", any spacing and line breaks) as bytes. */
export function bytesFromOdHex(text: string): Buffer {
  const hex = text.replace(/\s+/g, "");
  if (!/^(?:[0-9a-f]{2})*$/i.test(hex)) throw new Error(`not od -tx1 output: ${JSON.stringify(text.slice(0, 80))}`);
  return Buffer.from(hex, "hex");
}

class Reader {
  constructor(
    private readonly b: Buffer,
    private at = 0,
  ) {}
  get left(): number {
    return this.b.length - this.at;
  }
  private need(n: number, what: string): void {
    if (this.left < n) throw new Error(`ZooKeeper answer cut short: ${what} needs ${n} bytes, ${this.left} left`);
  }
  int(what: string): number {
    this.need(4, what);
    const v = this.b.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  skip(n: number, what: string): void {
    this.need(n, what);
    this.at += n;
  }
  bytes(what: string): Buffer | null {
    const n = this.int(what);
    if (n < 0) return null;
    this.need(n, what);
    const v = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
}

/**
 * The replies of a session made by zkSessionBytes(requests), from the bytes the server sent.
 * Throws when the session did not get through (no connect answer, a reply missing or cut short):
 * an unreachable or silent store must not read as "Docker wrote nothing".
 */
export function parseZkSession(bytes: Buffer, requests: readonly ZkRequest[]): ZkReply[] {
  const r = new Reader(bytes);
  if (r.left === 0) throw new Error("ZooKeeper sent nothing (not reachable, or not a ZooKeeper server)");
  const connect = r.bytes("the connect answer");
  if (connect === null || connect.length < 16) throw new Error("ZooKeeper refused the session (no valid connect answer)");
  if (connect.readBigInt64BE(8) === 0n) throw new Error("ZooKeeper refused the session (session id 0)");
  const replies: ZkReply[] = [];
  while (replies.length < requests.length) {
    const packet = r.bytes(`reply ${replies.length + 1}`);
    if (packet === null) throw new Error(`ZooKeeper reply ${replies.length + 1} has no body`);
    const p = new Reader(packet);
    const xid = p.int("xid");
    p.skip(8, "zxid");
    const err = p.int("err");
    if (xid === PING_XID) continue;
    const req = requests[xid - 1];
    if (req === undefined || xid !== replies.length + 1)
      throw new Error(`ZooKeeper answered xid ${xid} where ${replies.length + 1} was due`);
    const reply: ZkReply = { path: req.path, op: req.op, err };
    if (err === 0 && req.op === "getData") {
      const data = p.bytes("data");
      reply.data = data === null ? null : data.toString("utf8");
    } else if (err === 0) {
      const n = p.int("children count");
      const children: string[] = [];
      for (let i = 0; i < n; i++) children.push((p.bytes("child") ?? Buffer.alloc(0)).toString("utf8"));
      reply.children = children.sort();
    }
    replies.push(reply);
  }
  return replies;
}

/** A libkv key as ZooKeeper holds it: "/" + the key without its trailing "/". */
export function zkPath(key: string): string {
  return `/${key.replace(/^\/+|\/+$/g, "")}`;
}

/**
 * Docker's libkv ZooKeeper store (Docker 20.10 as released, Debian's docker.io) lists a directory as
 * bare child names with the directory's version. libnetwork then cannot match a network to its
 * endpoint count, and the daemon panics (nil endpointCnt) at the first container on an overlay over
 * zk://. The dockerd of scripts/build-dockerd-consul.sh carries a fix and says so in its version.
 */
export const ZOOKEEPER_FIX_MARK = "+zklist";

/** Why a dockerd (its `dockerd --version` line) cannot serve a zk:// store; undefined when it can. */
export function zookeeperDockerdProblem(versionLine: string): string | undefined {
  if (versionLine.includes(ZOOKEEPER_FIX_MARK)) return undefined;
  const v = versionLine.trim() || "an unknown version";
  return (
    `its dockerd (${v}) has Docker's own libkv ZooKeeper store, which lists keys wrongly: ` +
    "the daemon panics (nil endpoint count) at the first container on an overlay"
  );
}
