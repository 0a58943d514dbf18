// The binaries a netns lab runs where they are not Debian's, from the environment: the test tools'
// build scripts print their paths (npm run consul:build, dockerd:build, docker26:fetch). Read here
// once, for the stack and for `npm run lab` alike.
import type { NetnsCommandOptions } from "../model/index.js";

/** Consul for the KV namespace (`npm run consul:build` prints it). */
export function consulBinaryPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env["DNLAB_CONSUL"];
}

/** The dockerd the netns hosts run, when not Debian's: `npm run dockerd:build` prints it (it has the consul store). */
export function dockerdBinaryPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env["DNLAB_DOCKERD"];
}

/** The dockerd of netns hosts with dockerVersion "26": `npm run docker26:fetch` prints it (Debian trixie's 26.1.5). */
export function docker26BinaryPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env["DNLAB_DOCKERD_26"];
}

/** The binaries a netns lab runs, from the environment. */
export function netnsToolOptions(env: NodeJS.ProcessEnv = process.env): NetnsCommandOptions {
  const consul = consulBinaryPath(env);
  const dockerd = dockerdBinaryPath(env);
  const docker26 = docker26BinaryPath(env);
  return {
    ...(consul ? { consulBinary: consul } : {}),
    ...(dockerd ? { dockerdBinary: dockerd } : {}),
    ...(docker26 ? { docker26Binary: docker26 } : {}),
  };
}
