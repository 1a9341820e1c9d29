// Port publishing (-p): userland forwarders from the host to workloads, and the -p parser.
export { TcpForwarder } from "./forwarder";
export { DEFAULT_PUBLISH_IP, type ParsePublishOptions, parsePublish, validatePublishList } from "./parse";
export { PortPublisher } from "./publisher";
