// What a process listens on over TCP, seen from its network namespace (ss), and who may open a unix socket.
import { execFileSync } from "node:child_process";

export interface Listener {
  address: string;
  port: number;
}

/** The TCP sockets process `pid` listens on, in the network namespace at `netnsPath` (e.g. /run/netns/lab-host1). */
export function tcpListeners(netnsPath: string, pid: number): Listener[] {
  const out = execFileSync("nsenter", [`--net=${netnsPath}`, "ss", "-Hltnp"], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => {
      // State Recv-Q Send-Q Local:Port Peer:Port Process
      const local = l.trim().split(/\s+/)[3]!;
      const i = local.lastIndexOf(":");
      return { address: local.slice(0, i), port: Number(local.slice(i + 1)) };
    })
    .sort((a, b) => a.port - b.port);
}
