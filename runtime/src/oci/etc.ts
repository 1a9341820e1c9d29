import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface EtcOptions {
  hostname: string;
  /** The container's own address, so its hostname resolves to it. */
  address: string;
  /** Where DNS queries go (the sidecar's DNS, or the host's resolver). */
  nameserver: string;
}

export interface EtcFiles {
  resolvConf: string;
  hosts: string;
  hostname: string;
}

/**
 * Writes resolv.conf, hosts and hostname for one container into dir (created if needed) and
 * returns their paths, ready to be bind-mounted to /etc/*. Each file is replaced atomically, so a
 * container reading it during a rewrite sees the old or the new one, never half.
 */
export async function writeEtcFiles(dir: string, o: EtcOptions): Promise<EtcFiles> {
  await mkdir(dir, { recursive: true });
  const files: EtcFiles = {
    resolvConf: join(dir, "resolv.conf"),
    hosts: join(dir, "hosts"),
    hostname: join(dir, "hostname"),
  };
  // ndots:1 so dotted names ("reviews.default") are tried as-is first; "weft" is the mesh's search domain.
  // Written concurrently: this is on every container's start path.
  await Promise.all([
    replace(files.resolvConf, `nameserver ${o.nameserver}\nsearch weft\noptions ndots:1\n`),
    replace(
      files.hosts,
      [
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        `${o.address}\t${o.hostname}`,
        "",
      ].join("\n"),
    ),
    replace(files.hostname, `${o.hostname}\n`),
  ]);
  return files;
}

async function replace(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, path);
}
