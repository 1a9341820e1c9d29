// Container ids (64 hex, as Docker's) and friendly default names.
import { randomBytes, randomInt } from "node:crypto";

export function newContainerId(): string {
  return randomBytes(32).toString("hex");
}

const ADJECTIVES = [
  "brave",
  "calm",
  "eager",
  "fancy",
  "gentle",
  "happy",
  "jolly",
  "keen",
  "lucid",
  "merry",
  "nimble",
  "proud",
  "quiet",
  "sharp",
  "swift",
  "tender",
  "vivid",
  "witty",
  "zen",
  "bold",
];
const NOUNS = [
  "otter",
  "falcon",
  "heron",
  "lynx",
  "maple",
  "cedar",
  "comet",
  "delta",
  "ember",
  "fjord",
  "harbor",
  "island",
  "lotus",
  "meadow",
  "nebula",
  "orbit",
  "pixel",
  "quartz",
  "raven",
  "willow",
];

/** "adjective_noun", with a numeric suffix while `taken` says the name is used. */
export function generateName(taken: (name: string) => boolean): string {
  const base = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NOUNS[randomInt(NOUNS.length)]}`;
  if (!taken(base)) return base;
  for (let i = 2; ; i++) if (!taken(`${base}${i}`)) return `${base}${i}`;
}
