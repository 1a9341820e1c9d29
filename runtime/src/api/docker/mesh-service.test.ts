import test from "ava";
import { withExposedPorts } from "./mesh-service";

test("a container offers its image's exposed TCP ports beside those asked for, as Docker counts them", (t) => {
  // docker-compose sends no ports for a service that only relies on its image's EXPOSE (redis:6379):
  // without them the service's virtual IP had no port to route.
  t.deepEqual(withExposedPorts({ ports: [], sidecar: true }, ["6379/tcp"]), [
    { port: 6379, protocol: "auto" },
  ]);
  // One asked for keeps its protocol; udp and the sidecar's own ports are left out.
  t.deepEqual(
    withExposedPorts({ ports: [{ port: 8080, protocol: "http" }], sidecar: true }, [
      "8080/tcp",
      "53/udp",
      "15001/tcp",
      "9090",
    ]),
    [
      { port: 8080, protocol: "http" },
      { port: 9090, protocol: "auto" },
    ],
  );
  t.deepEqual(withExposedPorts({ ports: [], sidecar: false }, ["15001/tcp"]), [
    { port: 15001, protocol: "auto" },
  ]);
});
