// The dashboard's files, served by the control plane's HTTP server at / (the page) and /ui/ (its
// script and style). The files are read once from the package; the page talks to /api/v1 itself.
import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { packageRoot } from "../../../cli/index";

interface Asset {
  type: string;
  body: Buffer;
}

const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/ui/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/ui/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
};

/** Only same-origin scripts, styles and API calls: log lines and span attributes are untrusted. */
const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

export class Dashboard {
  private readonly assets = new Map<string, Asset>();

  constructor(dir = join(packageRoot(), "control-plane", "src", "dashboard", "assets")) {
    for (const [path, { file, type }] of Object.entries(FILES)) {
      this.assets.set(path, { type, body: readFileSync(join(dir, file)) });
    }
  }

  /** Answers GET/HEAD for the dashboard's paths; false for any other path (the API's). */
  serve(method: string | undefined, pathname: string, res: ServerResponse): boolean {
    const asset = this.assets.get(pathname);
    if (!asset || (method !== "GET" && method !== "HEAD")) return false;
    res.writeHead(200, {
      "Content-Type": asset.type,
      "Content-Length": asset.body.length,
      "Cache-Control": "no-cache",
      ...SECURITY_HEADERS,
    });
    res.end(method === "HEAD" ? undefined : asset.body);
    return true;
  }
}
