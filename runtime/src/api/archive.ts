// A container's files on both APIs (Docker's, and the Weft API the CLI uses): /changes (weft diff),
// /export (weft export) and /archive (weft cp). For /archive, HEAD says what is at
// ?path= in X-Docker-Container-Path-Stat (base64 JSON), GET sends it as a tar with that header, PUT
// unpacks the request's tar into the directory ?path= names. The client decides names (docker cp's
// rebase); the daemon only reads and writes inside the container.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { Change } from "../copy/changes";
import type { ExtractOptions, ExtractResult } from "../copy/extract";
import type { PathStat } from "../copy/pack";
import { RuntimeError } from "../errors";

/** What the archive endpoints need of the engine. */
export interface ArchiveApi {
  statPath(ref: string, path: string): PathStat;
  archive(ref: string, path: string): { stat: PathStat; tar: AsyncGenerator<Buffer> };
  extract(ref: string, dir: string, tar: AsyncIterable<Buffer>, o: ExtractOptions): Promise<ExtractResult>;
  changes(ref: string): Change[];
  exportFs(ref: string): AsyncGenerator<Buffer>;
}

/** Docker's [{Path, Kind}] (Kind 0 changed, 1 added, 2 deleted). */
export function changesJson(engine: ArchiveApi, ref: string): Array<{ Path: string; Kind: number }> {
  return engine.changes(ref).map((c) => ({ Path: c.path, Kind: c.kind }));
}

export async function getExport(engine: ArchiveApi, res: ServerResponse, ref: string): Promise<void> {
  await sendTar(res, engine.exportFs(ref), {});
}

export const PATH_STAT_HEADER = "X-Docker-Container-Path-Stat";

function pathParam(query: URLSearchParams): string {
  const path = query.get("path");
  if (!path)
    throw new RuntimeError("INVALID_ARGUMENT", "path is required: ?path=/some/path in the container");
  return path;
}

/** Docker's query booleans ("1", "true"). */
function queryFlag(query: URLSearchParams, name: string): boolean {
  const v = (query.get(name) ?? "").toLowerCase();
  return v === "1" || v === "true";
}

export function encodePathStat(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString("base64");
}

export function headArchive(
  engine: ArchiveApi,
  res: ServerResponse,
  ref: string,
  query: URLSearchParams,
): void {
  const stat = engine.statPath(ref, pathParam(query));
  res.writeHead(200, { [PATH_STAT_HEADER]: encodePathStat(stat), "Content-Type": "application/json" }).end();
}

export async function getArchive(
  engine: ArchiveApi,
  res: ServerResponse,
  ref: string,
  query: URLSearchParams,
): Promise<void> {
  const { stat, tar } = engine.archive(ref, pathParam(query));
  await sendTar(res, tar, { [PATH_STAT_HEADER]: encodePathStat(stat) });
}

export async function sendTar(
  res: ServerResponse,
  tar: AsyncGenerator<Buffer>,
  headers: Record<string, string>,
) {
  // The first piece is made before the answer starts, so a file unreadable at the top is an error
  // response rather than a cut tar.
  const first = await tar.next();
  res.writeHead(200, { ...headers, "Content-Type": "application/x-tar" });
  const rest = Readable.from(
    (async function* () {
      if (!first.done) yield first.value;
      yield* tar;
    })(),
  );
  await new Promise<void>((resolve) => {
    rest.on("error", () => res.destroy()); // mid-archive: the client sees the cut, as with Docker
    res.on("close", () => {
      rest.destroy();
      resolve();
    });
    rest.pipe(res);
  });
}

export async function putArchive(
  engine: ArchiveApi,
  req: IncomingMessage,
  res: ServerResponse,
  ref: string,
  query: URLSearchParams,
): Promise<void> {
  await engine.extract(ref, pathParam(query), req, {
    noOverwriteDirNonDir: queryFlag(query, "noOverwriteDirNonDir"),
    copyUidGid: queryFlag(query, "copyUIDGID"),
  });
  res.writeHead(200, { "Content-Length": 0 }).end();
}
