import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import anyTest, { type TestFn } from "ava";
import { NetworkStore, networksOf } from "./named-networks";

const test = anyTest as TestFn<{ dir: string }>;
test.beforeEach((t) => {
  t.context.dir = mkdtempSync(join(tmpdir(), "weft-networks-"));
});
test.afterEach.always((t) => rmSync(t.context.dir, { recursive: true, force: true }));

const now = new Date("2026-12-03T12:00:00Z");
/** "STATUS: message" of what fn throws. */
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return `${(err as { status?: number }).status}: ${(err as Error).message}`;
  }
  return "not refused";
};

test("a network is kept across restarts and found by name, id or id prefix", (t) => {
  const file = join(t.context.dir, "networks.json");
  const made = new NetworkStore(file).create(
    { name: "dc_default", labels: { "com.docker.compose.project": "dc" } },
    now,
  );
  t.regex(made.id, /^[0-9a-f]{64}$/);
  const again = new NetworkStore(file);
  t.is(again.get("dc_default").id, made.id);
  t.is(again.get(made.id).name, "dc_default");
  t.is(again.get(made.id.slice(0, 12)).name, "dc_default");
  t.deepEqual(again.get("dc_default").labels, { "com.docker.compose.project": "dc" });
  t.is(again.get("dc_default").created, now.toISOString());
});

test("names: taken (409), reserved (403), invalid (400), unknown (404) say what to do", (t) => {
  const store = new NetworkStore(join(t.context.dir, "networks.json"));
  store.create({ name: "front" }, now);
  t.regex(
    refusal(() => store.create({ name: "front" }, now)),
    /^409: .*already exists/,
  );
  for (const reserved of ["weft", "bridge", "host", "none"]) {
    t.regex(
      refusal(() => store.create({ name: reserved }, now)),
      /^403: /,
      reserved,
    );
  }
  t.regex(
    refusal(() => store.create({ name: "-x" }, now)),
    /^400: .*invalid/,
  );
  t.regex(
    refusal(() => store.get("back")),
    /^404: .*weft network create back/,
  );
  t.is(store.list().length, 1, "nothing refused was stored");
});

test("a network in use is not removed; an unused one is, for good", (t) => {
  const file = join(t.context.dir, "networks.json");
  const store = new NetworkStore(file);
  store.create({ name: "front" }, now);
  t.regex(
    refusal(() => store.remove("front", () => ["web-1"])),
    /^409: .*web-1/,
  );
  t.is(store.list().length, 1);
  store.remove("front", () => []);
  t.deepEqual(new NetworkStore(file).list(), []);
});

test("an unreadable file is refused, not overwritten", (t) => {
  const file = join(t.context.dir, "networks.json");
  writeFileSync(file, "{not json");
  t.throws(() => new NetworkStore(file));
  t.is(readFileSync(file, "utf8"), "{not json");
});

test("a container without named networks is on the default one", (t) => {
  t.deepEqual(networksOf({}), { weft: { aliases: [] } });
  t.deepEqual(networksOf({ networks: { a: { aliases: ["x"] } } }), { a: { aliases: ["x"] } });
});
