import test from "ava";
import { parsePublish, validatePublishList } from "./parse";

test("parsePublish reads HOSTPORT:PORT with the default host address", (t) => {
  t.deepEqual(parsePublish("8080:80"), {
    hostIp: "127.0.0.1",
    hostPort: 8080,
    containerPort: 80,
    protocol: "tcp",
  });
  t.deepEqual(parsePublish("8080:80", { defaultHostIp: "10.0.0.1" }).hostIp, "10.0.0.1");
});

test("parsePublish reads IP:HOSTPORT:PORT/tcp and HOSTPORT 0", (t) => {
  t.deepEqual(parsePublish("0.0.0.0:0:8080/tcp"), {
    hostIp: "0.0.0.0",
    hostPort: 0,
    containerPort: 8080,
    protocol: "tcp",
  });
});

test("parsePublish refuses bad input naming the flag and the format", (t) => {
  const cases: Array<[string, RegExp]> = [
    ["8080", /-p "8080" must look like \[IP:\]HOSTPORT:PORT/],
    ["8080:80/udp", /only tcp/],
    ["x:80", /HOSTPORT must be a number/],
    ["8080:0", /PORT must be a number 1-65535/],
    ["8080:70000", /PORT must be a number 1-65535/],
    ["localhost:8080:80", /IPv4 address/],
    ["1:2:3:4", /must look like/],
  ];
  for (const [value, message] of cases) {
    const err = t.throws(() => parsePublish(value));
    t.regex(err.message, message, value);
    t.is((err as { code?: string }).code, "INVALID_ARGUMENT");
  }
  t.regex(
    t.throws(() => parsePublish("nope", { flag: "services.web.publish[0]" })).message,
    /^services\.web\.publish\[0\]/,
  );
});

test("validatePublishList takes strings and objects and refuses a host port given twice", (t) => {
  t.deepEqual(validatePublishList(["8080:80", { containerPort: 9090 }]), [
    { hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, protocol: "tcp" },
    { hostIp: "127.0.0.1", hostPort: 0, containerPort: 9090, protocol: "tcp" },
  ]);
  t.deepEqual(validatePublishList(undefined), []);
  t.regex(t.throws(() => validatePublishList("8080:80")).message, /publish must be an array/);
  t.regex(
    t.throws(() => validatePublishList(["8080:80", "8080:81"])).message,
    /publish\[1\].*published twice/,
  );
});
