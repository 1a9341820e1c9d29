// ConfigDiscovery.StreamConfig over gRPC: adapts a bidi call to a DiscoveryServer connection, with
// the call's write buffer as backpressure (write() false → wait for "drain").
import type { ConfigDiscoveryHandlers, DiscoveryRequest__Output } from "../../../proto/index";
import type { DiscoveryServer } from "./discovery-server";
import { parseDiscoveryRequest, toWireResponse } from "./wire";

export function configDiscoveryHandlers(server: DiscoveryServer): ConfigDiscoveryHandlers {
  return {
    StreamConfig(call) {
      let closed = false;
      const connection = server.connect((response) => {
        if (closed) return true;
        return call.write(toWireResponse(response));
      });
      const close = () => {
        if (closed) return;
        closed = true;
        connection.close();
      };
      call.on("drain", () => connection.drained());
      call.on("data", (request: DiscoveryRequest__Output) =>
        connection.handle(parseDiscoveryRequest(request)),
      );
      call.on("end", () => {
        close();
        call.end();
      });
      call.on("cancelled", close);
      call.on("error", close);
      call.on("close", close);
    },
  };
}
