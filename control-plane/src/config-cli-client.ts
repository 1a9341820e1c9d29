// How the config verbs (apply, get, delete, history) talk to the control plane's HTTP API: the
// URL from --control-plane / WEFT_CONTROL_PLANE, the token from --token / WEFT_TOKEN as a bearer
// token, and errors turned into ConfigErrors that keep the API's field and document index.
import { controlPlaneUrl, requestJson } from "./api/client";
import { ConfigError, ConfigValidationError } from "./config/index";
import { ControlPlaneError } from "./errors";

export interface ConfigClient {
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
}

interface ErrorBody {
  error?: string;
  field?: string;
  allowed?: string;
  document?: number;
}

export function configClient(flags: { controlPlane?: string; token?: string }): ConfigClient {
  const base = controlPlaneUrl(flags.controlPlane);
  const token = flags.token || process.env.WEFT_TOKEN || "";
  return {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await requestJson(base, path, { method, body, token, timeoutMs: 30_000 });
      if (res.ok) return res.body as T;
      const e = res.body as ErrorBody;
      const message = e.error ?? `HTTP ${res.status}`;
      if (res.status === 400 && e.field !== undefined) {
        const err = new ConfigValidationError(e.field, message, e.allowed);
        if (typeof e.document === "number") err.document = e.document;
        throw err;
      }
      if (res.status === 404) throw new ConfigError("CONFIG_NOT_FOUND", message);
      if (res.status === 409) throw new ConfigError("VERSION_CONFLICT", message);
      if (res.status === 400) throw new ConfigError("BAD_DOCUMENT", message);
      throw new ControlPlaneError("INVALID_ARGUMENT", `the control plane answered ${res.status}: ${message}`);
    },
  };
}
