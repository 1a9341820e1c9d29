// The sidecar's command line, as docs/INTERFACES.md fixes it.
import { SIDECAR_NODE_FLAGS } from "../../../sidecar/src/index";
import type { SidecarStart } from "../engine/parts";
import { SIDECAR_UID } from "../engine/types";

/**
 * nsenter enters the netns first and then drops to uid/gid 1337 (Node's spawn({uid}) would drop
 * root before the setns and fail).
 */
export function sidecarCommand(o: {
  nodePath: string;
  script: string;
  controlPlane: string;
  start: SidecarStart;
}): string[] {
  const s = o.start;
  const args = [
    "nsenter",
    `--net=${s.netnsPath}`,
    "-S",
    String(SIDECAR_UID),
    "-G",
    String(SIDECAR_UID),
    "--",
    o.nodePath,
    ...SIDECAR_NODE_FLAGS,
    o.script,
    "--control-plane",
    o.controlPlane,
    "--node-id",
    `${s.name}.${s.id.slice(0, 12)}`,
    "--workload",
    s.name,
    "--address",
    s.address,
  ];
  if (s.service) args.push("--service", s.service);
  for (const p of s.ports) args.push("--port", `${p.port}/${p.protocol}`);
  for (const [k, v] of Object.entries(s.labels)) args.push("--label", `${k}=${v}`);
  return args;
}
