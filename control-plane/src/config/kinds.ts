// The five kinds and the names people use for them: the REST path segment (lower-case plural) and
// the CLI's singular, plural and short forms (kubectl style).
import { ConfigError } from "./errors";
import type { ConfigKind } from "./types";

export const CONFIG_KINDS: readonly ConfigKind[] = [
  "Service",
  "Route",
  "ResiliencePolicy",
  "Telemetry",
  "AuthorizationPolicy",
];

interface KindNames {
  plural: string;
  aliases: string[];
}

const NAMES: Record<ConfigKind, KindNames> = {
  Service: { plural: "services", aliases: ["service", "svc"] },
  Route: { plural: "routes", aliases: ["route", "rt"] },
  ResiliencePolicy: { plural: "resiliencepolicies", aliases: ["resiliencepolicy", "rp"] },
  Telemetry: { plural: "telemetries", aliases: ["telemetry", "tel"] },
  AuthorizationPolicy: { plural: "authorizationpolicies", aliases: ["authorizationpolicy", "authz", "ap"] },
};

export function isConfigKind(value: unknown): value is ConfigKind {
  return typeof value === "string" && (CONFIG_KINDS as readonly string[]).includes(value);
}

/** "routes" → "Route"; undefined for anything else. */
export function kindFromPlural(plural: string): ConfigKind | undefined {
  return CONFIG_KINDS.find((k) => NAMES[k].plural === plural);
}

export function pluralOf(kind: ConfigKind): string {
  return NAMES[kind].plural;
}

/** kubectl's "route.weft.dev/reviews". */
export function qualifiedName(kind: ConfigKind, name: string): string {
  return `${kind.toLowerCase()}.weft.dev/${name}`;
}

/** Any name a user may type for a kind, case-insensitive: Route, route, routes, rt. */
export function resolveKind(text: string): ConfigKind {
  const t = text.toLowerCase().replace(/\.weft\.dev$/, "");
  const kind = CONFIG_KINDS.find(
    (k) => k.toLowerCase() === t || NAMES[k].plural === t || NAMES[k].aliases.includes(t),
  );
  if (!kind) {
    const known = CONFIG_KINDS.map((k) => [
      NAMES[k].aliases[0],
      NAMES[k].plural,
      ...NAMES[k].aliases.slice(1),
    ])
      .map((names) => names.join("|"))
      .join(", ");
    throw new ConfigError("BAD_DOCUMENT", `unknown kind "${text}"; use one of ${known}`);
  }
  return kind;
}
