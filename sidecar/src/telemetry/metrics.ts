// Counters in Prometheus text format. Only counters so far: weft_requests_total (HTTP requests by
// direction, service and status code) and weft_tcp_connections_total (connections by direction).

type Labels = Record<string, string>;

interface Family {
  help: string;
  series: Map<string, { labels: Labels; value: number }>;
}

export type Direction = "inbound" | "outbound";

export class Metrics {
  private families = new Map<string, Family>();

  constructor() {
    this.family("weft_requests_total", "HTTP requests proxied, by direction, service and response code.");
    this.family("weft_tcp_connections_total", "TCP connections accepted, by direction.");
  }

  /** One HTTP request finished (or failed: code is what the client got). */
  request(direction: Direction, service: string, code: number): void {
    this.inc("weft_requests_total", { direction, service, code: String(code) });
  }

  /** One connection accepted on the inbound or outbound listener. */
  tcpConnection(direction: Direction): void {
    this.inc("weft_tcp_connections_total", { direction });
  }

  inc(name: string, labels: Labels, by = 1): void {
    const family = this.families.get(name) ?? this.family(name, name);
    const key = JSON.stringify(Object.entries(labels).sort());
    const series = family.series.get(key);
    if (series) series.value += by;
    else family.series.set(key, { labels, value: by });
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} counter`);
      for (const { labels, value } of family.series.values()) {
        const rendered = Object.entries(labels)
          .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
          .join(",");
        lines.push(`${name}{${rendered}} ${value}`);
      }
    }
    return `${lines.join("\n")}\n`;
  }

  private family(name: string, help: string): Family {
    const family = { help, series: new Map() };
    this.families.set(name, family);
    return family;
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}
