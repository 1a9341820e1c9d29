// A raw config stream for tests and the bench: every response in arrival order, requests sent as
// written, and a stream that never reads (to play a stuck sidecar).
import * as grpc from "@grpc/grpc-js";
import { loadWeftProto } from "../../../proto/grpc";
import {
  type DiscoveryRequest,
  type DiscoveryResponse__Output,
  grpcTarget,
  type WireNode,
} from "../../../proto/index";

export interface RawStream {
  /** Every response received, in order. */
  responses: DiscoveryResponse__Output[];
  send(request: DiscoveryRequest): void;
  /** First request of a type (or a restart of it): empty version and nonce. */
  subscribe(typeUrl: string, names?: string[]): void;
  /** ACK with the subscribed names repeated, as every xDS request does. */
  ack(r: DiscoveryResponse__Output, names?: string[]): void;
  nack(r: DiscoveryResponse__Output, lastGood: string, message: string, names?: string[]): void;
  /** Resolves with the first response after index `from` that matches. */
  waitFor(
    match: (r: DiscoveryResponse__Output) => boolean,
    from?: number,
    timeoutMs?: number,
  ): Promise<DiscoveryResponse__Output>;
  close(): void;
}

export function openRawStream(address: string, node: WireNode, options: { read?: boolean } = {}): RawStream {
  const proto = loadWeftProto();
  const client = new proto.weft.v1.ConfigDiscovery(grpcTarget(address), grpc.credentials.createInsecure());
  const call = client.StreamConfig();
  const responses: DiscoveryResponse__Output[] = [];
  const waiters = new Set<() => void>();
  // A stream nobody reads from stops pulling messages, so HTTP/2 flow control pushes back.
  if (options.read !== false) {
    call.on("data", (r: DiscoveryResponse__Output) => {
      responses.push(r);
      for (const w of waiters) w();
    });
  }
  call.on("error", () => {});
  let first = true;
  const send = (request: DiscoveryRequest) => {
    call.write({ ...request, node: first ? node : undefined });
    first = false;
  };
  return {
    responses,
    send,
    subscribe: (typeUrl, names = []) =>
      send({ type_url: typeUrl, version_info: "", response_nonce: "", resource_names: names }),
    ack: (r, names = []) =>
      send({
        type_url: r.type_url,
        version_info: r.version_info,
        response_nonce: r.nonce,
        resource_names: names,
      }),
    nack: (r, lastGood, message, names = []) =>
      send({
        type_url: r.type_url,
        version_info: lastGood,
        response_nonce: r.nonce,
        resource_names: names,
        error_detail: { code: grpc.status.INVALID_ARGUMENT, message },
      }),
    waitFor(match, from = 0, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = responses.slice(from).find(match);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching response within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => {
      call.cancel();
      client.close();
    },
  };
}
