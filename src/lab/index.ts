// Drivers for real labs on this machine (I/O): the netns lab, and the scenario's networks/containers.
export * from "./run.js";
export * from "./kernel.js";
export * from "./netnsLab.js";
export * from "./workloads.js";
export * from "./swarm.js";
export * from "./lab.js";
