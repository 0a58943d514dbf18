// What the bench ran on: cores, memory, kernel, Docker and Node versions, and how busy the machine was.
import { execFileSync } from "node:child_process";
import os from "node:os";
import type { Machine } from "./results.js";

function version(argv: string[]): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "not found";
  }
}

export function machineInfo(): Machine {
  const cpus = os.cpus();
  let osName = `${os.type()} ${os.release()}`;
  try {
    const rel = execFileSync("sh", ["-c", '. /etc/os-release && echo "$PRETTY_NAME"'], { encoding: "utf8" }).trim();
    if (rel) osName = rel;
  } catch {
    /* keep uname */
  }
  // "Docker version 20.10.24+dfsg1, build 297e128" -> "20.10.24+dfsg1"
  const docker = version(["/usr/sbin/dockerd", "--version"]).replace(/^Docker version ([^,]+),.*$/, "$1");
  return {
    cpus: cpus.length,
    cpuModel: (cpus[0]?.model ?? "unknown").replace(/\s+/g, " ").trim(),
    memoryGiB: os.totalmem() / 1024 ** 3,
    kernel: os.release(),
    os: osName,
    docker,
    node: process.version,
    loadStart: os.loadavg()[0]!,
  };
}
