// scripts/netns/lib.sh's start_daemon: what every lab daemon (dockerd, etcd, Consul) is started with.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/lab/run.js";

describe("start_daemon", () => {
  let pid = 0;
  const dir = mkdtempSync(join(tmpdir(), "dnlab-lib-"));
  afterEach(() => {
    if (pid > 0) process.kill(pid, "SIGKILL");
    pid = 0;
  });

  it("starts the daemon in a session of its own, holding none of the caller's descriptors above 2 (a lock, a pipe)", () => {
    const script = 'source scripts/netns/lib.sh; exec 7>"$1"; exec 8<"$1"; start_daemon sleep 30 >>"$1.log" 2>&1; echo $!';
    pid = Number(execFileSync("bash", ["-c", script, "_", join(dir, "held")], { cwd: REPO_ROOT, encoding: "utf8" }).trim());
    expect(pid).toBeGreaterThan(0);
    // The pid is the daemon's own once setsid has exec'd it (no fork in between).
    for (let i = 0; i < 50 && readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("setsid"); i++) execFileSync("sleep", ["0.05"]);
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).toBe("sleep\x0030\x00");
    expect(readdirSync(`/proc/${pid}/fd`).sort()).toEqual(["0", "1", "2"]);
    // Field 6 of /proc/<pid>/stat (after the parenthesised name) is the session id: its own.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    expect(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3])).toBe(pid);
  });

  it("keeps the caller's output redirection and gives the daemon /dev/null as stdin", () => {
    const script = 'source scripts/netns/lib.sh; start_daemon sh -c "echo started; exec sleep 30" >>"$1" 2>&1; echo $!';
    pid = Number(execFileSync("bash", ["-c", script, "_", join(dir, "out.log")], { cwd: REPO_ROOT, encoding: "utf8" }).trim());
    for (let i = 0; i < 50 && !readFileSync(join(dir, "out.log"), "utf8").includes("started"); i++) execFileSync("sleep", ["0.05"]);
    expect(readFileSync(join(dir, "out.log"), "utf8")).toBe("started\n");
    expect(execFileSync("readlink", [`/proc/${pid}/fd/0`], { encoding: "utf8" }).trim()).toBe("/dev/null");
  });

  it.sequential("cleans up", () => rmSync(dir, { recursive: true, force: true }));
});
