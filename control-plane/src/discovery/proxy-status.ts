// What the control plane knows about each connected sidecar's config, per type: what was sent and
// when, what was accepted, the last rejection, and one word for it, as `istioctl proxy-status`:
//   SYNCED    the sidecar ACKed the last response and nothing newer is waiting for it
//   SENT      the last response is on its way (not ACKed yet, for at most STALE_AFTER_MS)
//   STALE     not ACKed for longer than STALE_AFTER_MS, or a newer version is waiting to be sent
//   REJECTED  the sidecar NACKed a response (reason in `reason`); it keeps its last good config
//   NOT SENT  nothing of this type was sent (not subscribed, or nothing to send yet)
// Served as GET /api/v1/proxies.
import type { StreamState } from "./stream";

export const STALE_AFTER_MS = 5000;

export type SyncStatus = "SYNCED" | "SENT" | "STALE" | "REJECTED" | "NOT SENT";

export interface TypeStatus {
  status: SyncStatus;
  /** Why: the NACK message for REJECTED, what is late for STALE. */
  reason?: string;
  /** "*" for every resource of the type, else the service names subscribed to. */
  subscribed: string[] | "*";
  /** Resources the sidecar holds of this type (as sent). */
  resources: number;
  /** version_info of the last response sent ("" before the first). */
  sentVersion: string;
  /** Nonce of the last response sent. */
  lastNonce: string;
  sentAt?: string;
  /** The version the sidecar last ACKed ("" until it does). */
  ackedVersion: string;
  ackedAt?: string;
  acks: number;
  nacks: number;
  /** Why the sidecar last rejected a response, with that response's nonce; cleared by a later ACK. */
  lastError?: { message: string; nonce: string; version: string; at: string };
}

export interface ProxyStatus {
  /** The stream's own id, unique while the control plane runs. */
  stream: number;
  nodeId: string;
  workload: string;
  service: string;
  address: string;
  connectedAt: string;
  /** The transport's write buffer is full: updates wait until the sidecar reads. */
  blocked: boolean;
  types: Record<string, TypeStatus>;
  /** The last workload certificate the CA issued to this node id, while it is valid. */
  certificate?: { identity: string; notAfter: string };
}

export function proxyStatus(state: StreamState, now: number): ProxyStatus {
  const types: Record<string, TypeStatus> = {};
  for (const [type, sub] of state.subs) {
    const waiting = sub.full || sub.dirty.size > 0;
    let status: SyncStatus;
    let reason: string | undefined;
    if (sub.lastError) {
      status = "REJECTED";
      reason = sub.lastError.message;
    } else if (sub.lastNonce === "") {
      status = waiting ? "STALE" : "NOT SENT";
      if (waiting) reason = "waiting to be sent";
    } else if (waiting) {
      status = "STALE";
      reason = state.blocked ? "a newer version waits: the sidecar is not reading" : "a newer version waits";
    } else if (sub.ackedNonce === sub.lastNonce) {
      status = "SYNCED";
    } else if (now - sub.sentAt > STALE_AFTER_MS) {
      status = "STALE";
      reason = `version ${sub.sentVersion} sent ${Math.round((now - sub.sentAt) / 1000)} s ago, not ACKed`;
    } else {
      status = "SENT";
    }
    types[type] = {
      status,
      ...(reason ? { reason } : {}),
      subscribed: sub.wildcard ? "*" : [...sub.names].sort(),
      resources: sub.sent.size,
      sentVersion: sub.sentVersion,
      lastNonce: sub.lastNonce,
      ...(sub.sentAt ? { sentAt: new Date(sub.sentAt).toISOString() } : {}),
      ackedVersion: sub.ackedVersion,
      ...(sub.ackedAt ? { ackedAt: new Date(sub.ackedAt).toISOString() } : {}),
      acks: sub.acks,
      nacks: sub.nacks,
      ...(sub.lastError ? { lastError: { ...sub.lastError } } : {}),
    };
  }
  return {
    stream: state.id,
    nodeId: state.node.id,
    workload: state.node.workload,
    service: state.node.service,
    address: state.node.address,
    connectedAt: state.connectedAt,
    blocked: state.blocked,
    types,
  };
}
