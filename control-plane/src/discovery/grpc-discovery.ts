// ConfigDiscovery.StreamConfig over gRPC: adapts a bidi call to a DiscoveryServer connection.
import type {
  ConfigDiscoveryHandlers,
  DiscoveryRequest__Output,
  DiscoveryResponse,
} from "../../../proto/index";
import type { DiscoveryServer } from "./discovery-server";
import { parseDiscoveryRequest } from "./wire";

export function configDiscoveryHandlers(server: DiscoveryServer): ConfigDiscoveryHandlers {
  return {
    StreamConfig(call) {
      const connection = server.connect((response) => {
        const wire: DiscoveryResponse = {
          type_url: response.typeUrl,
          version_info: response.versionInfo,
          nonce: response.nonce,
          resources: response.resources.map((r) => r.wire),
          removed_resources: [],
          incremental: false,
        };
        call.write(wire);
      });
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        connection.close();
      };
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
