import test from "ava";
import { httpStatusOf, RuntimeError } from "./errors";

test("the API's status tells a caller's conflict from a daemon failure: a taken host port is a 409", (t) => {
  // A 5xx is logged by the daemon as its own failure, with a stack trace; a port in use is the
  // caller's to resolve (another -p), as a name in use is.
  t.is(httpStatusOf(new RuntimeError("PORT_IN_USE", "cannot publish 127.0.0.1:18080")), 409);
  t.is(httpStatusOf(new RuntimeError("NAME_IN_USE", "name taken")), 409);
  t.is(httpStatusOf(new RuntimeError("CONTAINER_NOT_FOUND", "no such container")), 404);
  t.is(httpStatusOf(new RuntimeError("INVALID_ARGUMENT", "bad")), 400);
  t.is(httpStatusOf(new RuntimeError("INTERNAL", "broken")), 500);
});
