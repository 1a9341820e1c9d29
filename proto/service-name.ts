// A service's name, as every part of weft takes it: what the registry accepts (Consul's agent API,
// SyncEndpoints) is what the control plane pushes, so each sidecar must accept it too, or it would
// refuse the whole Services response and keep its old services. Consul allows capitals, '_' and
// '.' ("PaymentService", "payment_api"); documents' spec.service takes them too (their own
// metadata.name is a DNS label, a subset).
export const SERVICE_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/** How SERVICE_NAME reads in an error message. */
export const SERVICE_NAME_RULE = "letters, digits, '-', '_', '.'; at most 63";

export function isServiceName(name: string): boolean {
  return SERVICE_NAME.test(name);
}
