// Types for gen-proto-schema.mjs (imported by proto/codec.test.ts).
export function renderSchema(protoRoot?: string): string;
