// The lean HTTP/1.1 proxy (raw sockets and llhttp, no node:http on the hot path).
export { Http1Proxy, type Http1ProxyOptions } from "./proxy";
