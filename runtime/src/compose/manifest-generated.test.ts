// Malformed manifests, searched for: a full weft.yaml (every service field, volumes, depends_on
// with conditions) with values swapped for wrong types and shapes, keys dropped or misspelt, and
// its text cut or edited. `weft up` either gets a manifest it can plan or a ComposeError
// INVALID_MANIFEST that names the file; no other exception (a TypeError here was a stack trace
// where the user needed the field's name). WEFT_FUZZ_SEED and WEFT_FUZZ_CASES explore further.
import test from "ava";
import { parse as parseYaml, stringify } from "yaml";
import { fuzzRun, mutateValues, replay, seededRandom as rng } from "../../../test/support/generated";
import { ComposeError } from "./errors";
import { planUp } from "./plan";
import { parseManifest } from "./validate";

const FULL = `
name: shop
services:
  web:
    image: hello-mesh
    command: httpd -f -p "8080"
    entrypoint: ["/bin/sh", "-c"]
    environment: {MODE: prod, PORT: 8080, EMPTY: null}
    replicas: 2
    ports: ["8080/http", 9090]
    publish: ["127.0.0.1:0:8080"]
    labels: {version: v1}
    resources: {memory: 64m, cpus: 0.5, pids: 100}
    volumes: ["./www:/www:ro", "data:/data"]
    healthcheck: {test: {http: "8080/healthz"}, interval: 5s, timeout: 2s, retries: 2, start_period: 1m}
    restart: on-failure:3
    depends_on: {db: {condition: service_healthy}}
    user: 1000
    read_only: true
    tmpfs: /run
  db:
    image: hello-mesh
    environment: [A=1]
    healthcheck: {test: ["CMD-SHELL", "true"]}
    sidecar: false
    service: database
  loadgen:
    image: hello-mesh
    command: ["loadgen"]
    depends_on: [web]
    restart: unless-stopped
volumes:
  data: {}
`;

const WRONG: unknown[] = [
  null,
  0,
  -1,
  1.5,
  1e21,
  "",
  "x",
  "9999999999999999999g",
  ":",
  "a:b:c:d",
  true,
  [],
  {},
  [null],
  [{}],
  { a: [1] },
];

const mutateValue = (r: () => number, doc: unknown) =>
  mutateValues(r, doc, { wrong: WRONG, drop: 0.1, misspell: 0.1, misspelling: "s" });

function mutateText(r: () => number, text: string): string {
  const i = Math.floor(r() * text.length);
  const choice = r();
  if (choice < 0.3) return text.slice(0, i);
  if (choice < 0.6) return text.slice(0, i) + text.slice(i + 1 + Math.floor(r() * 10));
  const chars = ":-[]{}\"'&*!|>#% \n\t";
  return text.slice(0, i) + chars[Math.floor(r() * chars.length)] + text.slice(i);
}

test("mutated manifests parse into a plan or fail with INVALID_MANIFEST naming the file", (t) => {
  const { seed, cases } = fuzzRun(2000);
  const o = { file: "weft.yaml", dir: "/srv/shop" };
  t.is(parseManifest(FULL, o).services.length, 3, "the unmutated manifest is valid");
  const doc = parseYaml(FULL) as unknown;
  let refused = 0;
  for (let i = 0; i < cases; i++) {
    const r = rng(seed + i);
    const text = r() < 0.7 ? stringify(mutateValue(r, doc)) : mutateText(r, FULL);
    try {
      const m = parseManifest(text, o);
      planUp(m, [], []); // what `weft up` does next with it
    } catch (err) {
      const where = `${replay(seed + i)}:\n${text}`;
      if (!(err instanceof ComposeError && err.code === "INVALID_MANIFEST")) {
        t.fail(`${where}\n${err instanceof Error ? err.stack : String(err)}`);
        continue;
      }
      t.true(
        err.message.startsWith("weft.yaml"),
        `the error does not name the file: ${err.message}; ${where}`,
      );
      refused++;
    }
  }
  t.log(`${cases} mutated manifests, ${refused} refused as INVALID_MANIFEST, the rest planned`);
  t.true(refused > 0 && refused < cases, "the mutations reach both outcomes");
});
