// What compose needs of the daemon, and its implementation over the Weft API client. Planning and
// convergence take this interface, so their unit tests run against a fake.
import { createInterface } from "node:readline";
import type { EngineClient } from "../api/client";
import type { ContainerState } from "../engine/types";

export interface ComposeApi {
  /** Every container, running or not. */
  list(): Promise<ContainerState[]>;
  inspect(ref: string): Promise<ContainerState>;
  /** Creates and starts a container from an API create body; resolves once it runs. */
  run(body: Record<string, unknown>): Promise<ContainerState>;
  /** Starts a created or exited container. */
  start(ref: string): Promise<ContainerState>;
  stop(ref: string, timeoutS: number): Promise<void>;
  remove(ref: string, force: boolean): Promise<void>;
  volumes(): Promise<string[]>;
  createVolume(name: string): Promise<void>;
  removeVolume(name: string): Promise<void>;
  /**
   * Each line a container writes from `since` (ISO time) on, stdout and stderr alike, until it stops
   * or `signal` aborts; resolves then. Absent: `weft up` reports state changes only.
   */
  follow?(ref: string, since: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void>;
}

export class DaemonComposeApi implements ComposeApi {
  constructor(private readonly client: EngineClient) {}

  async list(): Promise<ContainerState[]> {
    return this.json<ContainerState[]>("GET", "/containers/json?all=1");
  }

  inspect(ref: string): Promise<ContainerState> {
    return this.json<ContainerState>("GET", `/containers/${encodeURIComponent(ref)}/json`);
  }

  async run(body: Record<string, unknown>): Promise<ContainerState> {
    const created = await this.json<ContainerState>("POST", "/containers/create", body);
    // The Weft API's create may only create (issue #5's engine.create); the daemon before it ran too.
    return created.status === "created" ? this.start(created.id) : created;
  }

  async start(ref: string): Promise<ContainerState> {
    await this.call("POST", `/containers/${encodeURIComponent(ref)}/start`);
    return this.inspect(ref);
  }

  async stop(ref: string, timeoutS: number): Promise<void> {
    await this.call("POST", `/containers/${encodeURIComponent(ref)}/stop?t=${timeoutS}`);
  }

  async remove(ref: string, force: boolean): Promise<void> {
    await this.call("DELETE", `/containers/${encodeURIComponent(ref)}${force ? "?force=1" : ""}`);
  }

  async volumes(): Promise<string[]> {
    const r = await this.json<{ Volumes: Array<{ name: string }> }>("GET", "/volumes");
    return r.Volumes.map((v) => v.name);
  }

  async createVolume(name: string): Promise<void> {
    await this.call("POST", "/volumes/create", { Name: name });
  }

  async removeVolume(name: string): Promise<void> {
    await this.call("DELETE", `/volumes/${encodeURIComponent(name)}`);
  }

  async follow(
    ref: string,
    since: string,
    onLine: (line: string) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const q = new URLSearchParams({ stdout: "1", stderr: "1", format: "json", follow: "1", since });
    const res = await this.client.stream("GET", `/containers/${encodeURIComponent(ref)}/logs?${q}`);
    const lines = createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY });
    // Closing the reader ends the loop below (a destroyed input alone would leave it waiting).
    const stop = () => {
      lines.close();
      res.destroy();
    };
    if (signal.aborted) stop();
    signal.addEventListener("abort", stop, { once: true });
    try {
      for await (const text of lines) {
        if (!text) continue;
        const e = JSON.parse(text) as { line: string };
        onLine(e.line.replace(/\r?\n$/, ""));
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener("abort", stop);
      res.destroy();
    }
  }

  /** The client puts Weft API paths under /weft/v1. */
  private call(method: string, path: string, body?: unknown) {
    return this.client.call(method, path, body);
  }

  private json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.client.json<T>(method, path, body);
  }
}
