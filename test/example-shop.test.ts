// The shop example's services on the host (no containers): the fan-out answers, the optional
// dependency degrades instead of failing, and every hop carries the caller's trace id, which is
// what lets the mesh join one user request into one trace.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import test from "ava";
import { packageRoot } from "../cli/index";
import { freePort } from "./support/control-plane";

const SHOP = join(packageRoot(), "examples", "shop", "app", "shop.mjs");

/** Polls for up to 10 s. */
async function until(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  return check();
}

interface Shop {
  frontend: string;
  output: Record<string, () => string>;
  stop(): void;
}

async function startShop(failRate: number): Promise<Shop> {
  const roles = ["frontend", "catalog", "reviews", "ratings"];
  const ports = Object.fromEntries(await Promise.all(roles.map(async (r) => [r, await freePort()] as const)));
  const env = {
    ...process.env,
    FAIL_RATE: String(failRate),
    ...Object.fromEntries(roles.map((r) => [`${r.toUpperCase()}_URL`, `http://127.0.0.1:${ports[r]}`])),
  };
  const children: ChildProcess[] = [];
  const output: Record<string, () => string> = {};
  await Promise.all(
    roles.map(
      (role) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [SHOP, role], {
            env: { ...env, PORT: String(ports[role]) },
            stdio: ["ignore", "pipe", "pipe"],
          });
          children.push(child);
          let out = "";
          output[role] = () => out;
          child.stdout.on("data", (b: Buffer) => {
            out += b.toString();
            if (out.includes("listening on")) resolve();
          });
          child.stderr.on("data", (b: Buffer) => {
            out += b.toString();
          });
          child.once("exit", (code) => reject(new Error(`${role} exited (${code}): ${out}`)));
        }),
    ),
  );
  return {
    frontend: `http://127.0.0.1:${ports.frontend}/`,
    output,
    stop: () => {
      for (const c of children) {
        c.removeAllListeners("exit");
        c.kill("SIGKILL");
      }
    },
  };
}

test("one request fans out to catalog and reviews, and every hop logs the caller's trace id", async (t) => {
  const shop = await startShop(0);
  t.teardown(() => shop.stop());
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const res = await fetch(shop.frontend, {
    headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, "x-request-id": "req-1" },
  });
  t.is(res.status, 200);
  const body = (await res.json()) as { products: unknown[]; reviews: Array<{ stars: number }> | null };
  t.is(body.products.length, 3);
  t.is(body.reviews?.[0]?.stars, 5);
  // The log lines travel through pipes: they may reach this process after the response does.
  for (const role of ["frontend", "catalog", "reviews", "ratings"]) {
    const seen = await until(() => shop.output[role]!().includes(`trace_id=${traceId}`));
    t.true(seen, `${role} logged the trace id: ${shop.output[role]!()}`);
  }
});

test("a failing ratings service degrades the page instead of failing it", async (t) => {
  const shop = await startShop(1);
  t.teardown(() => shop.stop());
  const res = await fetch(shop.frontend);
  t.is(res.status, 200);
  t.is(((await res.json()) as { reviews: unknown }).reviews, null);
  t.true(await until(() => /error ratings: .*injected failure/.test(shop.output.ratings!())));
  t.true(await until(() => /GET \/reviews 503/.test(shop.output.reviews!())));
  t.true(await until(() => /warn frontend: reviews unavailable/.test(shop.output.frontend!())));
});
