// Mutual TLS between sidecars end to end: a real control plane (its CA signs each sidecar's SPIFFE
// certificate) and daemon, runc containers with injected sidecars and iptables capture. `front` calls
// `back` by name through both sidecars; back's app is busybox httpd with a CGI that echoes the
// X-Forwarded-Client-Cert it was given. The host, which has no sidecar, calls back's workload IP in
// plain text: taken while back is PERMISSIVE (the default), refused once its Service says STRICT.
// An AuthorizationPolicy on back then lets only front through, and only to GET /cgi-bin/, and Consul
// intentions do the same. The mesh runs with the control plane's --token throughout.
import { writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import test from "ava";
import { importExampleImage, type Mesh, startMesh } from "./support/mesh";
import { hex, waitFor } from "./support/processes";
import {
  addressOf,
  applyDocs,
  metricDelta,
  metricsOf,
  rawRequests,
  type SidecarDump,
  sidecarDump,
} from "./support/traffic";

let mesh: Mesh;
const id = hex(2);
const FRONT = `front-${id}`;
const BACK = `back-${id}`;
const SPIFFE = (service: string) => `spiffe://weft.local/ns/default/svc/${service}`;
const XFCC_URL = "http://back:8080/cgi-bin/xfcc";
const MTLS = "weft_mtls_connections_total";

/** back's app: "hello from back" on /, and on /cgi-bin/xfcc the X-Forwarded-Client-Cert it was sent. */
function backApp(): string[] {
  // CRLF after the CGI's header: a bare LF makes the sidecars' strict HTTP/1.1 parser answer 502.
  const cgi = `#!/bin/sh\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n"\\necho "xfcc=$HTTP_X_FORWARDED_CLIENT_CERT"\\n`;
  const script = [
    "mkdir -p /tmp/w/cgi-bin",
    "echo hello from back > /tmp/w/index.html",
    `printf '${cgi}' > /tmp/w/cgi-bin/xfcc`,
    "chmod +x /tmp/w/cgi-bin/xfcc",
    "exec httpd -f -p 8080 -h /tmp/w",
  ].join(" && ");
  return ["sh", "-c", script];
}

/** GET of URL from inside front with busybox wget (through front's and back's sidecars). */
function getFromFront(url: string): Promise<string> {
  return mesh.weftOk(["exec", FRONT, "timeout", "20", "wget", "-q", "-O", "-", url]);
}

type HostResult = { status: number; body: string } | { error: string };

/** A plain-text GET from the host (no sidecar) straight to back's workload address. */
async function getFromHost(path: string, headers: Record<string, string> = {}): Promise<HostResult> {
  const res = await hostRequest(path, headers);
  return "error" in res ? res : { status: res.status, body: res.body };
}

/** getFromHost, with the response's headers. */
function hostRequest(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders } | { error: string }> {
  return addressOf(mesh, BACK).then(
    (host) =>
      new Promise((resolve) => {
        const req = http.get({ host, port: 8080, path, headers, agent: false, timeout: 15_000 }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
          res.on("error", (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
        });
        req.on("timeout", () => req.destroy(new Error("timed out")));
        req.on("error", (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
      }),
  );
}

/** The services part of a sidecar's /config_dump (SidecarDump leaves it out). */
type DumpWithServices = SidecarDump & { services?: Array<{ name: string; mtlsMode?: string }> };

async function backModeIn(container: string): Promise<string | undefined> {
  const dump = (await sidecarDump(mesh, container)) as DumpWithServices;
  return dump.services?.find((s) => s.name === "back")?.mtlsMode;
}

/** The whole file runs with the control plane's --token: the daemon registers with it and hands it to
 * each sidecar (in its environment) for its certificate; without it no sidecar here would have one. */
const TOKEN = `t-${hex(8)}`;
const WRITE = { Authorization: `Bearer ${TOKEN}` };

test.before(async () => {
  mesh = await startMesh({ token: TOKEN });
  await importExampleImage(mesh, "hello-mesh");
  await mesh.weftOk(
    ["run", "-d", "--name", BACK, "--service", "back", "--port", "8080/http", "--memory", "64m"].concat([
      "hello-mesh",
      ...backApp(),
    ]),
  );
  await mesh.weftOk(
    ["run", "-d", "--name", FRONT, "--service", "front", "--port", "8080/http", "--memory", "64m"].concat([
      "hello-mesh",
      ...["httpd", "-f", "-p", "8080", "-h", "/www/front"],
    ]),
  );
  // Both sidecars have their workload certificate (readiness waits for the first answer, but a
  // failed request would leave them ready without one).
  for (const [container, service] of [
    [BACK, "back"],
    [FRONT, "front"],
  ] as const) {
    await waitFor(`${container}'s workload certificate`, async () => {
      const out = await mesh.weftOk([
        "exec",
        container,
        "timeout",
        "10",
        "wget",
        "-q",
        "-O",
        "-",
        "http://127.0.0.1:15000/certs",
      ]);
      const certs = JSON.parse(out) as { identity?: string };
      return certs.identity === SPIFFE(service) ? true : undefined;
    });
  }
});

test.after.always(async () => {
  await mesh?.close();
});

test.serial("front calls back over mutual TLS and back's app is told front's SPIFFE identity", async (t) => {
  const backBefore = await metricsOf(mesh, BACK);
  const frontBefore = await metricsOf(mesh, FRONT);
  const out = await getFromFront(XFCC_URL);
  t.is(out.trim(), `xfcc=URI=${SPIFFE("front")}`, out);

  const backAfter = await metricsOf(mesh, BACK);
  const frontAfter = await metricsOf(mesh, FRONT);
  const inbound = (outcome: string) =>
    metricDelta(backBefore, backAfter, MTLS, { direction: "inbound", outcome });
  t.true(inbound("mtls") >= 1, `back's inbound mtls connections:\n${mtlsSeries(backAfter)}`);
  t.is(inbound("plaintext"), 0, `back took plain text from front:\n${mtlsSeries(backAfter)}`);
  t.true(
    metricDelta(frontBefore, frontAfter, MTLS, { direction: "outbound", outcome: "mtls" }) >= 1,
    `front's outbound mtls connections:\n${mtlsSeries(frontAfter)}`,
  );
});

test.serial("STRICT: the host's plain text is refused, front's mutual TLS still gets through", async (t) => {
  // PERMISSIVE (the default): the host reaches back in plain text, and a client's own
  // X-Forwarded-Client-Cert does not get through to the app (it could claim any identity).
  t.is(await backModeIn(BACK), "PERMISSIVE");
  const before = await metricsOf(mesh, BACK);
  const plain = await getFromHost("/cgi-bin/xfcc", {
    "X-Forwarded-Client-Cert": `URI=${SPIFFE("admin")}`,
  });
  t.deepEqual(plain, { status: 200, body: "xfcc=\n" });
  const permissive = await metricsOf(mesh, BACK);
  t.true(
    metricDelta(before, permissive, MTLS, { direction: "inbound", outcome: "plaintext" }) >= 1,
    mtlsSeries(permissive),
  );

  try {
    // back's ports as `weft run --port 8080/http` declared them, and STRICT.
    await applyDocs(mesh, [
      {
        kind: "Service",
        name: "back",
        spec: { ports: [{ name: "http", port: 8080, protocol: "http" }], mtls: "STRICT" },
      },
    ]);
    await waitFor(
      "back's sidecar to hold back as STRICT",
      async () => ((await backModeIn(BACK)) === "STRICT" ? true : undefined),
      60_000,
      300,
    );

    const refused = await getFromHost("/");
    t.true("error" in refused, `the host got an answer: ${JSON.stringify(refused)}`);
    if ("error" in refused) t.regex(refused.error, /ECONNRESET|socket hang up|EPIPE/, refused.error);
    const strict = await metricsOf(mesh, BACK);
    t.true(
      metricDelta(permissive, strict, MTLS, { direction: "inbound", outcome: "refused-plaintext" }) >= 1,
      mtlsSeries(strict),
    );

    // front, a workload with a sidecar, still gets through, and back's app still learns who called.
    const out = await getFromFront(XFCC_URL);
    t.is(out.trim(), `xfcc=URI=${SPIFFE("front")}`, out);
    const root = await getFromFront("http://back:8080/");
    t.is(root.trim(), "hello from back");
    const after = await metricsOf(mesh, BACK);
    const sinceStrict = (outcome: string) =>
      metricDelta(strict, after, MTLS, { direction: "inbound", outcome });
    t.is(sinceStrict("refused-plaintext"), 0, `front was refused:\n${mtlsSeries(after)}`);
    // busybox httpd closes every connection (Connection: close), so these calls were new mutual TLS
    // connections that back's sidecar admitted under STRICT, not a pooled one from before.
    t.true(sinceStrict("mtls") >= 1, mtlsSeries(after));
  } finally {
    await mesh.weft(["delete", "service", "back", "--ignore-not-found"]);
  }
});

test.serial("AuthorizationPolicy: back admits only front's GET /cgi-bin/, the rest gets 403", async (t) => {
  const DENIED = "weft_authorization_denied_total";
  // The STRICT test deletes its Service as it ends: its push may still be on its way.
  await waitFor(
    "back's sidecar to hold back as PERMISSIVE",
    async () => ((await backModeIn(BACK)) === "PERMISSIVE" ? true : undefined),
    60_000,
    300,
  );
  try {
    const file = join(mesh.dir, `authz-${hex(4)}.yaml`);
    writeFileSync(
      file,
      [
        "apiVersion: weft.dev/v1",
        "kind: AuthorizationPolicy",
        "metadata: {name: back-authz}",
        "spec:",
        "  service: back",
        "  rules:",
        "    - action: ALLOW",
        "      from: [front]",
        "      methods: [GET]",
        "      pathPrefix: /cgi-bin/",
        "  defaultAction: DENY",
        "",
      ].join("\n"),
    );
    await mesh.weftOk(["apply", "-f", file]);
    await waitFor(
      "back's sidecar to hold AuthorizationPolicy back-authz",
      async () => ((await backAuthorizationIn(BACK)) === "back-authz" ? true : undefined),
      60_000,
      300,
    );

    // front, GET /cgi-bin/: allowed, and the app still learns who called.
    const before = await metricsOf(mesh, BACK);
    const out = await getFromFront(XFCC_URL);
    t.is(out.trim(), `xfcc=URI=${SPIFFE("front")}`, out);

    // front, GET /: no rule allows it, the default denies it before the app.
    const denied = await mesh.weft([
      "exec",
      FRONT,
      "timeout",
      "20",
      "wget",
      "-q",
      "-O",
      "-",
      "http://back:8080/",
    ]);
    t.not(denied.code, 0, `front got / through: ${denied.stdout}`);
    // busybox wget: "wget: server returned error: HTTP/1.1 403 Forbidden".
    t.regex(denied.stderr, /server returned error: HTTP\/1\.1 403\b/, denied.stderr);
    t.false(denied.stdout.includes("hello from back"), denied.stdout);
    // The denial is in the trace: back's sidecar answered it itself, and its span says why.
    const traceId = hex(16);
    await mesh.weft([
      ...["exec", FRONT, "timeout", "20", "wget", "-q", "-O", "-"],
      ...["--header", `traceparent: 00-${traceId}-${hex(8)}-01`, "http://back:8080/"],
    ]);
    const deniedSpan = await waitFor(
      "back's span of the denied request",
      async () => {
        const res = await fetch(`${mesh.httpUrl}/api/v1/traces/${traceId}`);
        if (!res.ok) return undefined;
        const { spans } = (await res.json()) as {
          spans: Array<{ service: string; kind: string; attributes: Record<string, unknown> }>;
        };
        return spans.find((s) => s.service === "back" && s.kind === "server");
      },
      30_000,
      300,
    );
    t.is(deniedSpan.attributes["http.response.status_code"], 403);
    t.regex(
      String(deniedSpan.attributes["weft.reason"]),
      /^RBAC: access denied: service "front" may not GET \//,
    );
    // The same through nc, for the status line, header and body that reach front's app.
    const [raw] = await rawRequests(mesh, FRONT, { host: "back", port: 8080, path: "/" }, 1);
    t.is(raw?.status, 403, JSON.stringify(raw));
    t.is(raw?.headers["x-weft-denied"], "back-authz defaultAction", JSON.stringify(raw));
    t.regex(raw?.body ?? "", /^RBAC: access denied: service "front" may not GET \/ on "back"/, raw?.body);
    const afterFront = await metricsOf(mesh, BACK);
    t.true(
      metricDelta(before, afterFront, DENIED, { service: "back", caller: "front" }) >= 2,
      deniedSeries(afterFront),
    );

    // The host in plain text has no identity: rules[0] (from: [front]) does not match it, even on
    // the path it allows.
    const plain = await hostRequest("/cgi-bin/xfcc");
    if (!("error" in plain)) {
      t.is(plain.status, 403, plain.body);
      t.regex(plain.body, /^RBAC: access denied: a caller without a mesh identity/, plain.body);
      t.is(plain.headers["x-weft-denied"], "back-authz defaultAction");
    } else t.fail(`the host's GET failed: ${plain.error}`);
    const afterHost = await metricsOf(mesh, BACK);
    t.true(
      metricDelta(afterFront, afterHost, DENIED, { service: "back", caller: "" }) >= 1,
      deniedSeries(afterHost),
    );

    // weft get ap: NAME, SERVICE, RULES, ...
    const table = await mesh.weftOk(["get", "ap"]);
    t.regex(table, /^back-authz\s+back\s+ALLOW front GET \/cgi-bin\/\*; else DENY\s/m, table);
  } finally {
    await mesh.weft(["delete", "ap", "back-authz", "--ignore-not-found"]);
  }

  await waitFor(
    "back's sidecar to drop AuthorizationPolicy back-authz",
    async () => ((await backAuthorizationIn(BACK)) === undefined ? true : undefined),
    60_000,
    300,
  );
  t.deepEqual(await getFromHost("/"), { status: 200, body: "hello from back\n" });
  t.is(await backModeIn(BACK), "PERMISSIVE");
});

test.serial(
  "Consul intentions through the sidecars: a deny, '*' deny with one caller allowed, then deleted",
  async (t) => {
    const intention = async (method: string, source: string, body?: unknown) => {
      const res = await fetch(
        `${mesh.httpUrl}/v1/connect/intentions/exact?source=${source}&destination=back`,
        {
          method,
          headers: WRITE,
          ...(body ? { body: JSON.stringify(body) } : {}),
        },
      );
      t.is(res.status, 200, await res.clone().text());
      return res.json();
    };
    const rulesIn = async () => {
      const dump = (await sidecarDump(mesh, BACK)) as SidecarDump & {
        policies: Record<string, { authorization?: { spec: { rules: unknown[] } } }>;
      };
      return JSON.stringify(dump.policies.back?.authorization?.spec.rules ?? null);
    };
    const until = (what: string, rules: unknown[] | null) =>
      waitFor(
        what,
        async () => ((await rulesIn()) === JSON.stringify(rules) ? true : undefined),
        60_000,
        300,
      );
    const frontGets = () =>
      mesh.weft(["exec", FRONT, "timeout", "20", "wget", "-q", "-O", "-", "http://back:8080/"]);
    try {
      // `consul intention create -deny front back`, as the API has it since Consul 1.9.
      t.true(await intention("PUT", "front", { SourceType: "consul", Action: "deny" }));
      await until("back's sidecar to hold the intention", [{ action: "DENY", from: ["front"] }]);
      const denied = await frontGets();
      t.regex(denied.stderr, /server returned error: HTTP\/1\.1 403\b/, denied.stdout);
      // Only front: the host's plain text still gets in (the policy made allows what it does not deny).
      t.deepEqual(await getFromHost("/"), { status: 200, body: "hello from back\n" });
      const check = await fetch(`${mesh.httpUrl}/v1/connect/intentions/check?source=front&destination=back`);
      t.deepEqual(await check.json(), { Allowed: false });

      // Zero trust: '*' denied, front allowed. The named source outranks '*', plain text is shut out.
      await intention("PUT", "*", { Action: "deny" });
      await intention("PUT", "front", { Action: "allow" });
      await until("back's sidecar to hold '*' deny and front allow", [
        { action: "ALLOW", from: ["front"] },
        { action: "DENY" },
      ]);
      t.is((await frontGets()).stdout, "hello from back\n");
      const host = await getFromHost("/");
      t.like(host, { status: 403 }, JSON.stringify(host));
    } finally {
      await fetch(`${mesh.httpUrl}/v1/connect/intentions/exact?source=front&destination=back`, {
        method: "DELETE",
        headers: WRITE,
      });
      await fetch(`${mesh.httpUrl}/v1/connect/intentions/exact?source=*&destination=back`, {
        method: "DELETE",
        headers: WRITE,
      });
    }
    // Both gone: the policy the API made went with them, and back takes every caller again.
    await until("back's sidecar to drop the intentions' policy", null);
    t.deepEqual(await getFromHost("/"), { status: 200, body: "hello from back\n" });
    t.is((await frontGets()).stdout, "hello from back\n");
  },
);

/** The name of the AuthorizationPolicy back's policy in a sidecar's /config_dump carries, if any. */
async function backAuthorizationIn(container: string): Promise<string | undefined> {
  const dump = (await sidecarDump(mesh, container)) as DumpWithAuthorization;
  return dump.policies.back?.authorization?.name;
}

type DumpWithAuthorization = SidecarDump & {
  policies: Record<string, { authorization?: { name: string } }>;
};

/** The authorization denial series of a scrape, for failure messages. */
function deniedSeries(metrics: string): string {
  return metrics
    .split("\n")
    .filter((l) => l.startsWith("weft_authorization_denied_total"))
    .join("\n");
}

/** The mutual TLS series of a scrape, for failure messages. */
function mtlsSeries(metrics: string): string {
  return metrics
    .split("\n")
    .filter((l) => l.startsWith(MTLS))
    .join("\n");
}
