// How the config verbs (apply, get, delete, history) talk to the control plane's HTTP API: the
// URL from --control-plane / WEFT_CONTROL_PLANE, the token from --token / WEFT_TOKEN as a bearer
// token, and errors turned into ConfigErrors that keep the API's field and document index.
import { controlPlaneUrl } from "./api/client";
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
      const headers: Record<string, string> = {};
      if (token) headers.Authorization = `Bearer ${token}`;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        throw new ControlPlaneError(
          "UNREACHABLE",
          `cannot reach the control plane at ${base} (${cause}); start it with 'weft control-plane' or point --control-plane / WEFT_CONTROL_PLANE at it`,
        );
      }
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ControlPlaneError(
          "UNREACHABLE",
          `${base}${path} answered ${res.status} with non-JSON; is it a weft control plane?`,
        );
      }
      if (res.ok) return parsed as T;
      const e = parsed as ErrorBody;
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
