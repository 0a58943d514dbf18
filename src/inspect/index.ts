// npm run inspect: a running lab as tables (hosts, networks, containers, last verification) or JSON.
export * from "./collect.js";
export * from "./format.js";
