// The sidecar's public surface: its CLI command, the interception rules and the fixed ports.
import type { Command } from "../../cli/index";
import { sidecarCommand } from "./cli";

export const sidecarCommands: Command[] = [sidecarCommand];
export { SidecarError } from "./errors";
export { interceptFromLabels, LABEL_PREFIX } from "./intercept/labels";
export {
  buildRedirectRules,
  type RedirectOptions,
  redirectRules,
  renderIptablesRestore,
} from "./intercept/rules";
export { type DnsAnswerer, fitted as fittedDnsReply, startDnsServers } from "./listeners/dns";
export { SIDECAR_NODE_FLAGS } from "./node-flags";
export {
  ADMIN_PORT,
  DNS_PORT,
  HEALTH_PORT,
  INBOUND_PORT,
  METRICS_PORT,
  OUTBOUND_PORT,
  PROXY_GID,
  PROXY_UID,
} from "./ports";
export { LogShipper, type ShippedLine } from "./telemetry/log-shipper";
export { logSinkSender } from "./telemetry/log-sink-client";
export { bundleSidecar } from "./testing/bundle";
