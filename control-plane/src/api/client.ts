// How the CLI reads the control plane's HTTP API: fetch with errors that say what to do.
import { ControlPlaneError } from "../errors";

export const DEFAULT_CONTROL_PLANE_URL = "http://127.0.0.1:15080";

/** --control-plane, else WEFT_CONTROL_PLANE, else the default; "host:port" gets http:// added. */
export function controlPlaneUrl(flag: string | undefined): string {
  const raw = flag || process.env.WEFT_CONTROL_PLANE || DEFAULT_CONTROL_PLANE_URL;
  const url = /^https?:\/\//.test(raw) ? raw : `http://${raw}`;
  return url.replace(/\/+$/, "");
}

export async function getJson<T>(baseUrl: string, path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new ControlPlaneError(
      "UNREACHABLE",
      `cannot reach the control plane at ${baseUrl} (${cause}); start it with 'weft control-plane' or point --control-plane / WEFT_CONTROL_PLANE at it`,
    );
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ControlPlaneError(
      "UNREACHABLE",
      `${baseUrl}${path} answered ${res.status} with non-JSON; is it a weft control plane?`,
    );
  }
  if (!res.ok) {
    const message = (body as { error?: string }).error ?? `HTTP ${res.status}`;
    throw new ControlPlaneError(res.status === 404 ? "SERVICE_NOT_FOUND" : "INVALID_ARGUMENT", message);
  }
  return body as T;
}
