// /etc/resolv.conf, /etc/hosts and /etc/hostname for a container, written into its state dir and
// bind-mounted read-only, so the image's own files stay untouched.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface EtcBind {
  source: string;
  destination: string;
  readonly: boolean;
}

/**
 * The nameserver is the bridge gateway: without a sidecar that is where queries go; with one, the
 * interception rules capture udp/53 to the sidecar's DNS whatever the address.
 */
export function writeEtcFiles(dir: string, o: { hostname: string; address: string; nameserver: string }): EtcBind[] {
  const files: Array<[string, string]> = [
    ["resolv.conf", `nameserver ${o.nameserver}\noptions ndots:1\n`],
    ["hosts", `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${o.address}\t${o.hostname}\n`],
    ["hostname", `${o.hostname}\n`],
  ];
  return files.map(([file, text]) => {
    const source = join(dir, file);
    writeFileSync(source, text, { mode: 0o644 });
    return { source, destination: `/etc/${file}`, readonly: true };
  });
}
