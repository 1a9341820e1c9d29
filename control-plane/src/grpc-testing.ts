// A small gRPC client for tests (as Istio's fake discovery client): register endpoints, open a
// config stream, wait for the next response of a type, ACK or NACK it, in a line each.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadWeftProto } from "../../proto/grpc";
import {
  type DiscoveryResponse__Output,
  grpcTarget,
  type SignCertificateRequest,
  type SignCertificateResponse__Output,
  type SyncEndpointsRequest,
  type SyncEndpointsResponse__Output,
  type WireNode,
} from "../../proto/index";

/** CertificateAuthority.SignCertificate, as a sidecar asks it. */
export function signCertificate(
  address: string,
  request: SignCertificateRequest,
  metadata = new grpc.Metadata(),
): Promise<SignCertificateResponse__Output> {
  const proto = loadWeftProto();
  const client = new proto.weft.v1.CertificateAuthority(
    grpcTarget(address),
    grpc.credentials.createInsecure(),
  );
  return new Promise((resolve, reject) => {
    client.SignCertificate(request, metadata, { deadline: Date.now() + 10_000 }, (err, response) => {
      client.close();
      if (err) reject(err);
      else resolve(response!);
    });
  });
}

/** A signing request made by OpenSSL for a fresh P-256 key (its key file is left in `dir`). */
export function opensslCsr(dir: string, subject = "/CN=whatever"): string {
  const key = join(dir, `key-${Math.random()}.pem`);
  execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
  return execFileSync("openssl", ["req", "-new", "-key", key, "-subj", subject]).toString();
}

export function syncEndpoints(
  address: string,
  request: SyncEndpointsRequest,
  metadata = new grpc.Metadata(),
): Promise<SyncEndpointsResponse__Output> {
  const proto = loadWeftProto();
  const client = new proto.weft.v1.Registration(grpcTarget(address), grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.SyncEndpoints(request, metadata, { deadline: Date.now() + 10_000 }, (err, response) => {
      client.close();
      if (err) reject(err);
      else resolve(response!);
    });
  });
}

export interface TestConfigStream {
  /** Sends the first request for a type (empty version and nonce). */
  subscribe(typeUrl: string, resourceNames?: string[]): void;
  /** Resolves with the next response of the type not yet taken (rejects after timeoutMs). */
  next(typeUrl: string, timeoutMs?: number): Promise<DiscoveryResponse__Output>;
  /** Resolves with true if a response of the type arrives within ms. */
  receivesWithin(typeUrl: string, ms: number): Promise<boolean>;
  ack(response: DiscoveryResponse__Output): void;
  nack(response: DiscoveryResponse__Output, lastGoodVersion: string, message: string): void;
  close(): void;
}

export function openConfigStream(address: string, node: WireNode): TestConfigStream {
  const proto = loadWeftProto();
  const client = new proto.weft.v1.ConfigDiscovery(grpcTarget(address), grpc.credentials.createInsecure());
  const call = client.StreamConfig();
  const queued = new Map<string, DiscoveryResponse__Output[]>();
  const waiters = new Map<string, Array<(r: DiscoveryResponse__Output) => void>>();
  call.on("data", (r: DiscoveryResponse__Output) => {
    const waiting = waiters.get(r.type_url)?.shift();
    if (waiting) waiting(r);
    else queued.set(r.type_url, [...(queued.get(r.type_url) ?? []), r]);
  });
  call.on("error", () => {});
  const names = new Map<string, string[]>();
  let sentNode = false;
  const send = (typeUrl: string, version: string, nonce: string, names: string[], error?: string) => {
    call.write({
      node: sentNode ? undefined : node,
      type_url: typeUrl,
      version_info: version,
      response_nonce: nonce,
      resource_names: names,
      error_detail: error === undefined ? undefined : { code: grpc.status.INVALID_ARGUMENT, message: error },
    });
    sentNode = true;
  };
  const next = (typeUrl: string, timeoutMs = 5000) =>
    new Promise<DiscoveryResponse__Output>((resolve, reject) => {
      const ready = queued.get(typeUrl)?.shift();
      if (ready) return resolve(ready);
      const timer = setTimeout(() => {
        const list = waiters.get(typeUrl) ?? [];
        waiters.set(
          typeUrl,
          list.filter((w) => w !== deliver),
        );
        reject(new Error(`no ${typeUrl} response within ${timeoutMs} ms`));
      }, timeoutMs);
      const deliver = (r: DiscoveryResponse__Output) => {
        clearTimeout(timer);
        resolve(r);
      };
      waiters.set(typeUrl, [...(waiters.get(typeUrl) ?? []), deliver]);
    });
  return {
    subscribe: (typeUrl, resourceNames = []) => {
      names.set(typeUrl, resourceNames);
      send(typeUrl, "", "", resourceNames);
    },
    next,
    receivesWithin: (typeUrl, ms) =>
      next(typeUrl, ms).then(
        () => true,
        () => false,
      ),
    // Every request repeats the subscribed names, as in xDS; an empty list would mean "everything".
    ack: (r) => send(r.type_url, r.version_info, r.nonce, names.get(r.type_url) ?? []),
    nack: (r, lastGood, message) => send(r.type_url, lastGood, r.nonce, names.get(r.type_url) ?? [], message),
    close: () => {
      call.end();
      client.close();
    },
  };
}
