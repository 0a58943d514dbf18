// The pure lab model: config -> validated plan. No Pulumi, no I/O.
export * from "./types.js";
export * from "./config.js";
export * from "./errors.js";
export * from "./ip.js";
export * from "./daemon.js";
export * from "./defaults.js";
export * from "./checks.js";
export * from "./netns.js";
export { buildPlan } from "./plan.js";
export * from "./kvServer.js";
export * from "./topology.js";
export * from "./netnsCommands.js";
export * from "./dockerKv.js";
export * from "./remoteCommands.js";
export * from "./neighbours.js";
export * from "./zookeeper.js";
