import test from "ava";
import { GoTemplate } from "./go-template";

const RECORD = {
  name: "web",
  status: "running",
  labels: { "weft.project": "shop", tier: "front" },
  cmd: ["sleep", "600"],
  ports: [{ port: 8080, protocol: "http" }],
  health: null,
};

const render = (template: string, data: unknown = RECORD) => new GoTemplate(template).render(data);

test("fields read in any case, nested, and the functions docker users write", (t) => {
  t.is(render("{{.Name}} is {{.status}}"), "web is running");
  t.is(render('{{index .Labels "weft.project"}}'), "shop");
  t.is(render('{{index .Labels "nope"}}'), "<no value>");
  t.is(render('{{join .Cmd " "}}'), "sleep 600");
  t.is(render('{{join .Cmd "|"}}'), "sleep|600");
  t.is(render('{{join .Cmd "\\"|"}} {{.Name | upper}}'), 'sleep"|600 WEB');
  t.is(render("{{json .Ports}}"), '[{"port":8080,"protocol":"http"}]');
  t.is(render("{{.Ports | json}}"), '[{"port":8080,"protocol":"http"}]');
  t.is(render("{{upper .Name}}-{{len .Cmd}}"), "WEB-2");
  t.is(render("{{json .}}", { a: 1 }), '{"a":1}');
  t.is(render("{{ .Name -}}   ,  {{- .Status }}"), "web,running");
});

test("values print as Go prints them: lists in brackets, maps sorted, nothing as <no value>", (t) => {
  t.is(render("{{.Cmd}}"), "[sleep 600]");
  t.is(render("{{.Labels}}"), "map[tier:front weft.project:shop]");
  t.is(render("{{.Health}}"), "<no value>");
  t.is(render("{{.Ports}}"), "[map[port:8080 protocol:http]]");
});

test("table adds a header row and aligns the tab-separated cells; \\t and \\n are read as docker reads them", (t) => {
  const rows = [
    { ID: "abc", Names: "web-1", Status: "Up 1 second" },
    { ID: "def", Names: "a", Status: "Exited (0)" },
  ];
  const out = new GoTemplate("table {{.ID}}\\t{{.Names}}\\t{{.Status}}").renderAll(rows, (f) =>
    f === "ID" ? "CONTAINER ID" : undefined,
  );
  t.is(
    out,
    [
      "CONTAINER ID   NAMES   STATUS",
      "abc            web-1   Up 1 second",
      "def            a       Exited (0)",
      "",
    ].join("\n"),
  );
  t.is(new GoTemplate("{{.Names}}").renderAll(rows), "web-1\na\n");
});

test("a field that is not there names the fields that are; what is not supported says so", (t) => {
  const missing = t.throws(() => render("{{.State.Status}}"));
  t.regex(
    missing?.message ?? "",
    /no field "State" in \.; its fields: name, status, labels, cmd, ports, health/,
  );
  t.regex(t.throws(() => render("{{.Name.First}}"))?.message ?? "", /\.Name\.First: web has no fields/);
  t.regex(
    t.throws(() => new GoTemplate("{{range .Cmd}}{{.}}{{end}}"))?.message ?? "",
    /"range" is not supported/,
  );
  t.regex(t.throws(() => new GoTemplate("{{.Name"))?.message ?? "", /unclosed action/);
  t.regex(t.throws(() => new GoTemplate("{{printf .Name}}"))?.message ?? "", /"printf" is not something/);
  t.regex(
    t.throws(() => new GoTemplate("{{.Cmd | join}}"))?.message ?? "",
    /pipe into json, lower, upper or len/,
  );
});
