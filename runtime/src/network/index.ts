// Public surface of runtime/src/network: bridge, IPAM, workload netns + veth, iptables in a netns.
export type { BridgeInfo, BridgeOptions } from "./bridge";
export { ensureBridge, removeBridge } from "./bridge";
export { NetworkError } from "./errors";
export { Ipam } from "./ipam";
export { applyIptables } from "./iptables";
export type { WorkloadNetwork } from "./netns";
export {
  createWorkloadNetwork,
  destroyWorkloadNetwork,
  execInNetns,
  netnsPath,
  workloadNames,
} from "./netns";
