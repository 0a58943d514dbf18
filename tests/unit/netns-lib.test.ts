// scripts/netns/lib.sh's start_daemon: what every lab daemon (dockerd, etcd, Consul, ZooKeeper) is started with.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    // start_daemon returns once its child has exec'd setsid; setsid then execs the daemon itself (no
    // fork in between: same pid). Bounded generously: under CPU load that second exec may take a while.
    for (let i = 0; i < 200 && readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("setsid"); i++) execFileSync("sleep", ["0.05"]);
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

  it("returns only once the child has exec'd: the daemon's marker is in its cmdline at once, even when closing the caller's descriptors takes long", () => {
    // 400 open descriptors make the child's close-them-all loop (before its exec) last long enough
    // that a check right after the old start_daemon read the caller's cmdline: 10 of 10 false "exited".
    // The marker is made inside the script: the caller's own cmdline must not contain it.
    writeFileSync(join(dir, "marker"), "");
    const script = [
      "source scripts/netns/lib.sh",
      "for i in $(seq 400); do exec {fd}</dev/null; done",
      'start_daemon tail -f "$1/marker" >/dev/null 2>&1',
      'if pid_is $! "$1/marker"; then echo "$! running"; else echo "$! exited"; fi',
    ].join("\n");
    const [p, state] = execFileSync("bash", ["-c", script, "_", dir], { cwd: REPO_ROOT, encoding: "utf8" }).trim().split(" ");
    pid = Number(p);
    expect(state).toBe("running");
  });

  it("a daemon that dies at once: start_daemon does not wait for it, and the caller's check sees it gone with its words in the log", () => {
    const log = join(dir, "dies.log");
    // The caller's loop as in kv-up.sh / host-up.sh: poll, and stop at the first "not running".
    const script = [
      "source scripts/netns/lib.sh",
      'start_daemon sh -c "echo cannot bind >&2; exit 3" "$1.marker" >>"$1" 2>&1',
      'for i in $(seq 100); do pid_is $! "$1.marker" || { echo exited; exit 0; }; sleep 0.05; done',
      "echo running",
    ].join("\n");
    const t0 = Date.now();
    const out = execFileSync("bash", ["-c", script, "_", log], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    // Far below the 60 s start_daemon allows a child that has not exec'd: the dead child ends its wait.
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(out).toBe("exited");
    expect(readFileSync(log, "utf8")).toBe("cannot bind\n");
  });

  it.sequential("cleans up", () => rmSync(dir, { recursive: true, force: true }));
});
