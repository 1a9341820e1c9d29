// How the CLI reads the control plane's HTTP API: fetch with errors that say what to do.
import { ControlPlaneError } from "../errors";

export const DEFAULT_CONTROL_PLANE_URL = "http://127.0.0.1:15080";

/** --control-plane, else WEFT_CONTROL_PLANE, else the default; "host:port" gets http:// added. */
export function controlPlaneUrl(flag: string | undefined): string {
  const raw = flag || process.env.WEFT_CONTROL_PLANE || DEFAULT_CONTROL_PLANE_URL;
  const url = /^https?:\/\//.test(raw) ? raw : `http://${raw}`;
  return url.replace(/\/+$/, "");
}

export interface JsonRequest {
  method?: string;
  body?: unknown;
  /** Sent as a bearer token (mutations need it when the control plane runs with --token). */
  token?: string;
  timeoutMs?: number;
}

/**
 * One request to the API, answered with its status and parsed JSON body. Throws only when the control
 * plane cannot be reached or does not answer JSON; HTTP errors are the caller's to interpret.
 */
export async function requestJson(
  baseUrl: string,
  path: string,
  o: JsonRequest = {},
): Promise<{ status: number; ok: boolean; body: unknown }> {
  const headers: Record<string, string> = {};
  if (o.token) headers.Authorization = `Bearer ${o.token}`;
  if (o.body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${path}`, {
      method: o.method ?? "GET",
      headers,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
  } catch (err) {
    throw unreachable(baseUrl, err);
  }
  const text = await res.text();
  try {
    return { status: res.status, ok: res.ok, body: JSON.parse(text) };
  } catch {
    throw new ControlPlaneError(
      "UNREACHABLE",
      `${baseUrl}${path} answered ${res.status} with non-JSON; is it a weft control plane?`,
    );
  }
}

/** A failed fetch to the control plane, saying how to start it or point the CLI at it. */
export function unreachable(baseUrl: string, err: unknown): ControlPlaneError {
  const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
  return new ControlPlaneError(
    "UNREACHABLE",
    `cannot reach the control plane at ${baseUrl} (${cause}); start it with 'weft control-plane' or point --control-plane / WEFT_CONTROL_PLANE at it`,
  );
}

export async function getJson<T>(baseUrl: string, path: string): Promise<T> {
  const res = await requestJson(baseUrl, path);
  if (!res.ok) {
    const message = (res.body as { error?: string }).error ?? `HTTP ${res.status}`;
    throw new ControlPlaneError(res.status === 404 ? "SERVICE_NOT_FOUND" : "INVALID_ARGUMENT", message);
  }
  return res.body as T;
}
