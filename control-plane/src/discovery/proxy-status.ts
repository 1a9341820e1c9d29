// What the control plane knows about each connected sidecar's config: per type, what was sent,
// what was accepted, and the last rejection. Served as GET /api/v1/proxies.

export interface TypeStatus {
  /** version_info of the last response sent ("" before the first). */
  sentVersion: string;
  /** Nonce of the last response sent. */
  lastNonce: string;
  /** The version the sidecar last ACKed ("" until it does). */
  ackedVersion: string;
  acks: number;
  nacks: number;
  /** Why the sidecar last rejected a response, with that response's nonce; cleared by a later ACK. */
  lastError?: { message: string; nonce: string; at: string };
}

export interface ProxyStatus {
  /** The stream's own id, unique while the control plane runs. */
  stream: number;
  nodeId: string;
  workload: string;
  service: string;
  address: string;
  connectedAt: string;
  types: Record<string, TypeStatus>;
}

export class ProxyStatusBoard {
  private readonly proxies = new Map<number, ProxyStatus>();

  open(stream: number): ProxyStatus {
    const status: ProxyStatus = {
      stream,
      nodeId: "",
      workload: "",
      service: "",
      address: "",
      connectedAt: new Date().toISOString(),
      types: {},
    };
    this.proxies.set(stream, status);
    return status;
  }

  close(stream: number): void {
    this.proxies.delete(stream);
  }

  type(stream: number, typeUrl: string): TypeStatus {
    const proxy = this.proxies.get(stream);
    const fresh: TypeStatus = { sentVersion: "", lastNonce: "", ackedVersion: "", acks: 0, nacks: 0 };
    if (!proxy) return fresh;
    proxy.types[typeUrl] ??= fresh;
    return proxy.types[typeUrl];
  }

  /** Every connected proxy, ordered by node id; copies, so callers cannot change the board. */
  list(): ProxyStatus[] {
    return [...this.proxies.values()]
      .map((p) => structuredClone(p))
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : a.stream - b.stream));
  }
}
