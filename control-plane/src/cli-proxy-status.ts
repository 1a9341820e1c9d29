// `weft proxy-status`: every connected sidecar and, per resource type, whether it holds what the
// control plane last sent it, as `istioctl proxy-status` shows it.
import { type Command, parseFlags, printList, UsageError } from "../../cli/index";
import { controlPlaneUrl, getJson } from "./api/client";
import type { ProxyStatus, TypeStatus } from "./discovery/proxy-status";

const TYPES: Array<[string, string]> = [
  ["services", "weft.v1.Service"],
  ["endpoints", "weft.v1.ServiceEndpoints"],
  ["routes", "weft.v1.ServiceRoutes"],
  ["policy", "weft.v1.ServicePolicy"],
  ["telemetry", "weft.v1.Telemetry"],
];

/** One cell: SYNCED, SENT, STALE, NOT SENT, or REJECTED (reason). */
export function formatTypeStatus(status: TypeStatus | undefined): string {
  if (!status) return "NOT SENT";
  if (status.status === "REJECTED") return `REJECTED (${status.reason ?? "no reason given"})`;
  return status.status;
}

/** "expires in 23h" for the sidecar's workload certificate; "none" without one (plain text only). */
export function certificateCell(cert: ProxyStatus["certificate"], now = Date.now()): string {
  if (!cert) return "none";
  const minutes = Math.max(0, Math.floor((Date.parse(cert.notAfter) - now) / 60_000));
  return minutes >= 120 ? `expires in ${Math.floor(minutes / 60)}h` : `expires in ${minutes}m`;
}

export const proxyStatusCommand: Command = {
  name: "proxy-status",
  summary: "Show each sidecar and whether its config is synced, stale or rejected",
  usage: `Usage: weft proxy-status [NAME] [OPTIONS]

Lists connected sidecars (or those whose node id, workload or service is NAME) and, per resource
type, the state of what the control plane sent:
  SYNCED     the sidecar ACKed the latest version
  SENT       sent moments ago, ACK not back yet
  STALE      not ACKed for more than 5 s, or a newer version is waiting to be sent
  REJECTED   the sidecar NACKed it (the reason follows) and keeps its last good config
  NOT SENT   nothing of this type was sent (the sidecar has not asked for it)
and when the workload certificate the CA last issued it expires (sidecars renew at half its life;
"none": the sidecar has none and speaks plain text to other sidecars).

Options:
  --control-plane URL  the control plane's HTTP API (default $WEFT_CONTROL_PLANE or http://127.0.0.1:15080)
  --json               print JSON (every version, nonce and time) instead of a table`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      "control-plane": { type: "string" },
      json: { type: "boolean" },
    });
    const [name, extra] = positionals;
    if (extra) throw new UsageError(`unexpected argument "${extra}"`);
    const all = await getJson<ProxyStatus[]>(controlPlaneUrl(values["control-plane"]), "/api/v1/proxies");
    const list = name ? all.filter((p) => [p.nodeId, p.workload, p.service].includes(name)) : all;
    if (name && list.length === 0 && !values.json) {
      process.stderr.write(`no connected sidecar is named "${name}"; run 'weft proxy-status' to list them\n`);
      return 1;
    }
    printList(
      list,
      values.json === true,
      ["name", "service", ...TYPES.map(([h]) => h), "certificate"],
      (p) => [
        p.nodeId || `stream-${p.stream}`,
        p.service || "-",
        ...TYPES.map(([, type]) => formatTypeStatus(p.types[type])),
        certificateCell(p.certificate),
      ],
    );
    return 0;
  },
};
