// Node's own HTTP/1.x parser (llhttp, the one node:http uses) driven directly, without
// IncomingMessage and streams on top. It is internal to Node ('_http_common'), so the little of it
// used here is typed locally. Requests are parsed strictly: llhttp refuses bad chunk sizes,
// Content-Length with Transfer-Encoding, bare LF, spaces before the colon and bad characters.
import { createRequire } from "node:module";

/** Arguments of kOnHeadersComplete; requests get `method` (an index into `methods`), responses a status. */
export type OnHeadersComplete = (
  versionMajor: number,
  versionMinor: number,
  headers: string[] | undefined,
  method: number | undefined,
  url: string | undefined,
  statusCode: number | undefined,
  statusMessage: string | undefined,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number;

export interface ParseError extends Error {
  code: string;
  reason?: string;
  bytesParsed: number;
}

export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes parsed, or the error (also HPE_PAUSED when a callback paused). */
  execute(data: Buffer): number | ParseError;
  /** End of input (a response without length ends here). */
  finish(): undefined | ParseError;
  resume(): void;
  close(): void;
  free(): void;
  [key: number]: unknown;
}

interface ParserModule {
  HTTPParser: {
    new (): LlhttpParser;
    REQUEST: number;
    RESPONSE: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kLenientNone: number;
    kLenientOptionalCRBeforeLF: number;
  };
  methods: string[];
}

const common = createRequire(import.meta.url)("_http_common") as ParserModule;
const HTTPParser = common.HTTPParser;
/** Request methods by the index llhttp reports. */
export const METHODS: readonly string[] = common.methods;

/** The largest request or response head accepted (431 beyond). */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Returned from onHeadersComplete: go on; no body follows (HEAD, 1xx); upgrade; pause here. */
export const PARSE_ON = 0;
export const SKIP_BODY = 1;
export const UPGRADE = 2;
export const PAUSE = 21; // HPE_PAUSED: execute() stops right after this head

export interface ParserCallbacks {
  /** Header pairs that arrive in pieces (a head split over packets), and trailers. */
  onHeaders(headers: string[], url: string): void;
  onHeadersComplete: OnHeadersComplete;
  onBody(chunk: Buffer): void;
  onMessageComplete(): void;
}

export function createParser(kind: "request" | "response", cb: ParserCallbacks): LlhttpParser {
  const p = new HTTPParser();
  p.initialize(
    kind === "request" ? HTTPParser.REQUEST : HTTPParser.RESPONSE,
    {},
    MAX_HEADER_BYTES,
    // Responses may end lines with a bare LF (busybox httpd's CGI, old scripts), as curl and
    // browsers accept: the proxy re-frames every response, so a lenient reading cannot smuggle
    // anything past it. Requests stay strict.
    kind === "request" ? HTTPParser.kLenientNone : HTTPParser.kLenientOptionalCRBeforeLF,
  );
  p[HTTPParser.kOnHeaders] = cb.onHeaders;
  p[HTTPParser.kOnHeadersComplete] = cb.onHeadersComplete;
  p[HTTPParser.kOnBody] = cb.onBody;
  p[HTTPParser.kOnMessageComplete] = cb.onMessageComplete;
  return p;
}

export function isParseError(r: unknown): r is ParseError {
  return typeof r === "object" && r !== null;
}
