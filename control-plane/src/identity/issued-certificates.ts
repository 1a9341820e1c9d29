// The last workload certificate the CA issued to each sidecar (by node id), for `weft proxy-status`,
// the dashboard and GET /api/v1/ca. Kept in the registry database as well as in memory: a sidecar
// keeps its certificate across a control plane restart and asks for the next one only at half its
// life (12 h by default), so a control plane that forgot at restart showed every sidecar as having
// none ("speaks plain text") for hours while each still spoke mutual TLS.
import type { SqliteDatabase } from "../store/database";
import type { IssuedRecord } from "./grpc-identity";

export type Issued = IssuedRecord & { issuedAt: Date };

export interface IssuedStore {
  db: SqliteDatabase;
  /** The CA root's id now: records of certificates another root signed are dropped at load. */
  rootId: string;
  log: (message: string) => void;
}

interface Row {
  node: string;
  identity: string;
  not_after: number;
  issued_at: number;
}

/** The last certificate issued per sidecar node id, newest first when listed; bounded. */
export class IssuedCertificates {
  private readonly byNode = new Map<string, Issued>();

  constructor(
    private readonly store: IssuedStore,
    private readonly max = 10_000,
  ) {
    const { db, rootId } = store;
    db.prepare("DELETE FROM issued_certificates WHERE not_after <= ? OR root_id <> ?").run(
      Date.now(),
      rootId,
    );
    const rows = db
      .prepare(
        "SELECT node, identity, not_after, issued_at FROM issued_certificates ORDER BY issued_at, node",
      )
      .all() as Row[];
    for (const r of rows) {
      this.byNode.set(r.node, {
        node: r.node,
        identity: r.identity,
        notAfter: new Date(r.not_after),
        issuedAt: new Date(r.issued_at),
      });
    }
    this.evict();
  }

  record(r: IssuedRecord): void {
    const issued = { ...r, issuedAt: new Date() };
    this.byNode.delete(r.node);
    this.byNode.set(r.node, issued);
    try {
      this.store.db
        .prepare(
          "INSERT OR REPLACE INTO issued_certificates (node, identity, not_after, issued_at, root_id) VALUES (?, ?, ?, ?, ?)",
        )
        .run(r.node, r.identity, r.notAfter.getTime(), issued.issuedAt.getTime(), this.store.rootId);
    } catch (err) {
      // The sidecar has its certificate either way; only a later restart's proxy-status misses it.
      this.store.log(`cannot keep the certificate issued to "${r.node}": ${(err as Error).message}`);
    }
    this.evict();
  }

  /** The valid certificate last issued to `node`, if any. */
  of(node: string): Issued | undefined {
    const r = this.byNode.get(node);
    return r && r.notAfter.getTime() > Date.now() ? r : undefined;
  }

  list(): Issued[] {
    const now = Date.now();
    return [...this.byNode.values()].filter((r) => r.notAfter.getTime() > now).reverse();
  }

  /** Past `max` records, the oldest issued go, from memory and the database. */
  private evict(): void {
    while (this.byNode.size > this.max) {
      const oldest = this.byNode.keys().next().value as string;
      this.byNode.delete(oldest);
      try {
        this.store.db.prepare("DELETE FROM issued_certificates WHERE node = ?").run(oldest);
      } catch (err) {
        this.store.log(`cannot drop the certificate record of "${oldest}": ${(err as Error).message}`);
      }
    }
  }
}
