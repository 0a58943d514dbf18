// Retries that remove what a failed attempt left (src/lab/workloads.ts retry): the cleanup runs after
// every failed attempt (the last one too), errors no retry can fix end it at once, and the attempt
// after a cleanup starts from nothing.
import { describe, expect, it } from "vitest";
import { retry } from "../../src/lab/workloads.js";

describe("retry", () => {
  it("a half-created container is removed before the next attempt, so the retry does not hit the name conflict", async () => {
    // A fake daemon: the first `docker run` creates the container and then fails to start it.
    const containers = new Set<string>();
    let runs = 0;
    const dockerRun = async (): Promise<string> => {
      runs++;
      if (containers.has("test1")) throw new Error('Conflict. The container name "/test1" is already in use');
      containers.add("test1");
      if (runs === 1) throw new Error("failed to start: Address already in use");
      return "id";
    };
    const cleanups: number[] = [];
    const out = await retry("run test1", 5_000, dockerRun, {
      pauseMs: 1,
      cleanup: async () => {
        cleanups.push(runs);
        containers.delete("test1");
      },
    });
    expect(out).toBe("id");
    expect(runs).toBe(2);
    expect(cleanups).toEqual([1]);
  });

  it("the last failed attempt is cleaned up too, and the error says how often it was tried", async () => {
    let cleaned = 0;
    const err = await retry(
      "run test1",
      30,
      async () => {
        throw new Error("attaching to network failed");
      },
      { pauseMs: 5, cleanup: async () => void cleaned++ },
    ).then(
      () => "",
      (e: Error) => e.message,
    );
    expect(err).toMatch(/^run test1: still failing after 30 ms \((\d+) attempts\): attaching to network failed$/);
    const attempts = Number(/\((\d+) attempts\)/.exec(err)![1]);
    expect(cleaned).toBe(attempts);
  });

  it("errors no retry can fix are not retried", async () => {
    let calls = 0;
    const err = await retry("run test1", 60_000, async () => {
      calls++;
      throw new Error("docker: invalid reference format.");
    }).then(
      () => "",
      (e: Error) => e.message,
    );
    expect(calls).toBe(1);
    expect(err).toContain("not retried");
  });
});
