// Helpers for this folder's kernel tests: unique names and a subnet no other interface uses.
import { randomBytes } from "node:crypto";
import { run } from "./exec";

export function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/** A random 10.251.X.0/24 that no route on the host covers yet, so parallel test files do not collide. */
export async function freeTestSubnet(): Promise<string> {
  const { stdout } = await run("ip", ["-4", "route", "show"]);
  for (let i = 0; i < 50; i++) {
    const x = Math.floor(Math.random() * 256);
    if (!stdout.includes(`10.251.${x}.`)) return `10.251.${x}.0/24`;
  }
  throw new Error("no free 10.251.X.0/24 test subnet");
}
