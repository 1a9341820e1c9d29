import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { NetworkError } from "./errors";
import { formatIpv4, isWorkloadAddress, parseIpv4, parseSubnet, type Subnet } from "./subnet";

interface IpamFile {
  subnet: string;
  /** owner → address */
  allocations: Record<string, string>;
}

/**
 * Hands out workload addresses from one subnet and remembers them in a JSON file, so a restarted
 * daemon gives adopted workloads the addresses they already hold. The file is re-read on every call
 * and replaced atomically (temp file + rename), so a crash never leaves it half written. One daemon
 * owns the file; there is no cross-process lock.
 */
export class Ipam {
  private readonly subnet: Subnet;

  constructor(
    private readonly file: string,
    subnet: string,
  ) {
    this.subnet = parseSubnet(subnet);
    this.load(); // fail fast on a corrupt file or one written for another subnet
  }

  /** The owner's address: the one it already holds, else the lowest free one. Throws IPAM_EXHAUSTED. */
  allocate(owner: string): string {
    const state = this.load();
    const held = state.allocations[owner];
    if (held !== undefined) return held;
    const used = new Set(Object.values(state.allocations).map((a) => parseIpv4(a)));
    for (let addr = this.subnet.gateway + 1; addr < this.subnet.broadcast; addr++) {
      if (used.has(addr)) continue;
      const address = formatIpv4(addr);
      state.allocations[owner] = address;
      this.save(state);
      return address;
    }
    throw new NetworkError(
      "IPAM_EXHAUSTED",
      `no free address left in ${this.subnet.cidr} (${used.size} allocated); remove stopped workloads or use a larger --subnet`,
    );
  }

  /** Frees the owner's address; releasing an owner that holds none does nothing. */
  release(owner: string): void {
    const state = this.load();
    if (!(owner in state.allocations)) return;
    delete state.allocations[owner];
    this.save(state);
  }

  lookup(owner: string): string | undefined {
    return this.load().allocations[owner];
  }

  private load(): IpamFile {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT")
        return { subnet: this.subnet.cidr, allocations: {} };
      throw new NetworkError("IPAM_STATE", `cannot read IPAM state ${this.file}: ${(err as Error).message}`);
    }
    return this.parse(text);
  }

  private parse(text: string): IpamFile {
    const corrupt = (why: string) =>
      new NetworkError("IPAM_STATE", `IPAM state ${this.file} is corrupt (${why}); fix or delete it`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw corrupt((err as Error).message);
    }
    if (typeof raw !== "object" || raw === null) throw corrupt("not an object");
    const { subnet, allocations } = raw as Record<string, unknown>;
    if (typeof subnet !== "string") throw corrupt("subnet is not a string");
    if (subnet !== this.subnet.cidr) {
      throw new NetworkError(
        "INVALID_SUBNET",
        `IPAM state ${this.file} holds addresses of subnet ${subnet}, not ${this.subnet.cidr}; ` +
          `keep --subnet ${subnet}, or remove all workloads and delete that file to change it`,
      );
    }
    if (typeof allocations !== "object" || allocations === null)
      throw corrupt("allocations is not an object");
    const out: Record<string, string> = {};
    for (const [owner, address] of Object.entries(allocations)) {
      const value = typeof address === "string" ? parseIpv4(address) : undefined;
      if (value === undefined || !isWorkloadAddress(this.subnet, value)) {
        throw corrupt(`allocation ${owner} → ${String(address)} is not a workload address`);
      }
      out[owner] = address as string;
    }
    return { subnet, allocations: out };
  }

  private save(state: IpamFile): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new NetworkError("IPAM_STATE", `cannot write IPAM state ${this.file}: ${(err as Error).message}`);
    }
  }
}
