// For tests of connect failures: a loopback port whose connections are refused, and stay refused.
import { readFileSync } from "node:fs";
import { connect } from "node:net";

/**
 * A port nothing listens on: connections are refused. Picked below the kernel's ephemeral range
 * (ip_local_port_range, 32768 and up here), where listen(0) never lands: a port freed by closing a
 * listener could be handed to a server of a test running alongside, which would then answer.
 */
export async function refusingPort(): Promise<number> {
  const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
    .trim()
    .split(/\s+/)
    .map(Number);
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * ((low ?? 32768) - 10_000));
    const refused = await new Promise<boolean>((resolve) => {
      const probe = connect(port, "127.0.0.1");
      probe.once("connect", () => {
        probe.destroy();
        resolve(false);
      });
      probe.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
    });
    if (refused) return port;
  }
}
