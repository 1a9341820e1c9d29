// Keeps the agent API's service definitions and check results in the control plane's database, so
// services registered through /v1/agent survive a restart (also kill -9) with their checks.
// The table is created here, not in store/migrations.ts, because it belongs to the agent source alone.
import type { SqliteDatabase } from "../store/database";
import type { AgentServiceDefinition, CheckStatus } from "./agent-definition";

export interface CheckResult {
  status: CheckStatus;
  output: string;
  /** When the check went critical (ms since epoch); 0 when it is not. */
  criticalSinceMs: number;
}

export interface StoredAgentService {
  definition: AgentServiceDefinition;
  results: Record<string, CheckResult>;
}

export class AgentStore {
  constructor(private readonly db: SqliteDatabase) {
    db.exec(`CREATE TABLE IF NOT EXISTS agent_services (
      id TEXT PRIMARY KEY,
      definition TEXT NOT NULL,
      results TEXT NOT NULL
    )`);
  }

  load(): StoredAgentService[] {
    const rows = this.db
      .prepare("SELECT definition, results FROM agent_services ORDER BY id")
      .all() as Array<{
      definition: string;
      results: string;
    }>;
    return rows.map((r) => ({
      definition: JSON.parse(r.definition) as AgentServiceDefinition,
      results: JSON.parse(r.results) as Record<string, CheckResult>,
    }));
  }

  save(service: StoredAgentService): void {
    if (!this.db.open) return;
    this.db
      .prepare("INSERT OR REPLACE INTO agent_services (id, definition, results) VALUES (?, ?, ?)")
      .run(service.definition.id, JSON.stringify(service.definition), JSON.stringify(service.results));
  }

  remove(id: string): void {
    if (this.db.open) this.db.prepare("DELETE FROM agent_services WHERE id = ?").run(id);
  }
}
