import test from "ava";
import { loadWeftProto } from "./grpc";
import { grpcTarget } from "./index";

test("the contract loads with both services", (t) => {
  const proto = loadWeftProto();
  t.is(typeof proto.weft.v1.ConfigDiscovery, "function");
  t.is(typeof proto.weft.v1.Registration, "function");
  t.truthy(proto.weft.v1.ConfigDiscovery.service.StreamConfig.requestStream);
});

test("gRPC addresses accept unix paths and host:port", (t) => {
  t.is(grpcTarget("/run/weft/cp.sock"), "unix:///run/weft/cp.sock");
  t.is(grpcTarget("unix:///x.sock"), "unix:///x.sock");
  t.is(grpcTarget("127.0.0.1:15010"), "127.0.0.1:15010");
});
