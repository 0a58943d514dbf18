// The Docker engine a dind lab is built on: its underlay network, KV container and host containers are
// created through the docker provider's default provider, which takes `docker:host` from the stack's
// config, else DOCKER_HOST, else the local socket. Said once here, so the stack can name the engine it
// uses (and check it) before anything is created.

/** The provider's own default when neither docker:host nor DOCKER_HOST is set. */
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** Where a dind lab's containers go, and what said so. */
export interface DindEngine {
  host: string;
  from: "docker:host" | "DOCKER_HOST" | "default";
}

export function dindEngine(dockerHostConfig: string | undefined, env: NodeJS.ProcessEnv = process.env): DindEngine {
  if (dockerHostConfig) return { host: dockerHostConfig, from: "docker:host" };
  const fromEnv = env["DOCKER_HOST"];
  if (fromEnv) return { host: fromEnv, from: "DOCKER_HOST" };
  return { host: DEFAULT_DOCKER_HOST, from: "default" };
}

/** One line for the stack's log: which engine, and how to choose another. */
export function dindEngineLine(e: DindEngine): string {
  const how = e.from === "default" ? "the local default; set DOCKER_HOST or docker:host for another" : `from ${e.from}`;
  return `dind hosts on the Docker engine at ${e.host} (${how}); published ports (the hosts' APIs, Consul) on 127.0.0.1 of the machine it runs on`;
}
