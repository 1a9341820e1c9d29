import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";

/** The SDK's in-memory exporter, except that it keeps its spans when the provider shuts it down
 * (the SDK's clears them), so a test can read them after MeshTracer.shutdown(). */
export class KeepingExporter extends InMemorySpanExporter {
  override shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
