// CertificateAuthority.SignCertificate over gRPC. Who may ask: whoever reaches the control plane's
// gRPC port (loopback) or socket (the host's filesystem), as with registration; workloads reach
// neither, only their sidecars do. The identity is the asking sidecar's service (its workload when it
// has none). A bad request is INVALID_ARGUMENT naming the field; nothing is stored.
import { status } from "@grpc/grpc-js";
import type { CertificateAuthorityHandlers } from "../../../proto/index";
import { ControlPlaneError } from "../errors";
import { isServiceName } from "../registration/validate";
import type { MeshCa } from "./ca";

export interface IssuedRecord {
  node: string;
  identity: string;
  notAfter: Date;
}

export function certificateAuthorityHandlers(
  ca: MeshCa,
  log: (message: string) => void,
  onIssued: (record: IssuedRecord) => void = () => {},
): CertificateAuthorityHandlers {
  return {
    SignCertificate(call, callback) {
      const node = call.request.node;
      const service = node?.service || node?.workload || "";
      if (!isServiceName(service)) {
        callback({
          code: status.INVALID_ARGUMENT,
          details: service
            ? `node.service "${service}" is not a valid service name (letters, digits, '-', '_', '.'; at most 63)`
            : "node.service (or node.workload) is required: the certificate's identity is the sidecar's service",
        });
        return;
      }
      if (!call.request.csr_pem) {
        callback({ code: status.INVALID_ARGUMENT, details: "csr_pem is required (a PKCS#10 request, PEM)" });
        return;
      }
      ca.sign(call.request.csr_pem, service, call.request.validity_seconds).then(
        (issued) => {
          onIssued({ node: node?.id ?? "", identity: issued.identity, notAfter: issued.notAfter });
          callback(null, {
            identity: issued.identity,
            certificate_pem: issued.certificatePem,
            trust_bundle_pem: issued.trustBundlePem,
          });
        },
        (err: Error) => {
          const bad = err instanceof ControlPlaneError && err.code === "BAD_CSR";
          if (!bad) log(`SignCertificate for "${service}" failed: ${err.message}`);
          callback({ code: bad ? status.INVALID_ARGUMENT : status.INTERNAL, details: err.message });
        },
      );
    },
  };
}
