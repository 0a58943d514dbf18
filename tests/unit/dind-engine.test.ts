// Which Docker engine a dind lab is built on: the docker provider's own rule, said by the stack.
import { describe, expect, it } from "vitest";
import { DEFAULT_DOCKER_HOST, dindEngine, dindEngineLine } from "../../src/stack/dindEngine.js";

describe("the dind lab's engine", () => {
  it("is docker:host, else DOCKER_HOST, else the local socket", () => {
    expect(dindEngine("tcp://127.0.0.1:2375", { DOCKER_HOST: "unix:///run/other.sock" })).toEqual({
      host: "tcp://127.0.0.1:2375",
      from: "docker:host",
    });
    expect(dindEngine(undefined, { DOCKER_HOST: "unix:///run/dnlab-outer/docker.sock" })).toEqual({
      host: "unix:///run/dnlab-outer/docker.sock",
      from: "DOCKER_HOST",
    });
    expect(dindEngine(undefined, { DOCKER_HOST: "" })).toEqual({ host: DEFAULT_DOCKER_HOST, from: "default" });
    expect(dindEngine(undefined, {})).toEqual({ host: "unix:///var/run/docker.sock", from: "default" });
  });

  it("is named in the stack's log with how to choose another", () => {
    expect(dindEngineLine(dindEngine(undefined, {}))).toBe(
      "dind hosts on the Docker engine at unix:///var/run/docker.sock (the local default; set DOCKER_HOST or docker:host for another); published ports (the hosts' APIs, Consul) on 127.0.0.1 of the machine it runs on",
    );
    expect(dindEngineLine(dindEngine(undefined, { DOCKER_HOST: "unix:///x.sock" }))).toContain("at unix:///x.sock (from DOCKER_HOST)");
  });
});
