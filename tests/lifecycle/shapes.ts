// Shapes beyond the reference scenario, for every host kind's engine suite: three hosts, two overlays
// created on different hosts, a container on both overlays (aliases on each), and a macvlan on a
// subnet of its own (/24, gateway .1).
import type { LabConfigInput } from "../../src/model/index.js";

export function shapesLab(name: string, macvlanSubnet: string): LabConfigInput {
  return {
    name,
    hosts: [
      { name: "host1", address: "198.18.0.11" },
      { name: "host2", address: "198.18.0.12" },
      { name: "host3", address: "198.18.0.13" },
    ],
    networks: [
      { name: "ov_a", driver: "overlay", subnet: "198.18.100.0/24" },
      { name: "ov_b", driver: "overlay", subnet: "198.18.101.0/24", createdOn: "host2", mtu: 1400 },
      { name: "mv_own", driver: "macvlan", subnet: macvlanSubnet, gateway: macvlanSubnet.replace(/0\/24$/, "1"), parent: "eth0" },
    ],
    workloads: [
      { name: "a1", host: "host1", networks: ["ov_a"] },
      { name: "ab2", host: "host2", networks: ["ov_a", "ov_b"], aliases: ["both"] },
      { name: "b3", host: "host3", networks: ["ov_b"] },
      { name: "m1", host: "host1", networks: ["mv_own"], aliases: ["mvx"] },
      { name: "m1b", host: "host1", networks: ["mv_own"] },
      { name: "m3", host: "host3", networks: ["mv_own"] },
    ],
  };
}
