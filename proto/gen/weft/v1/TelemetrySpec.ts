// Original file: weft/v1/config.proto

import type { TracingConfig as _weft_v1_TracingConfig, TracingConfig__Output as _weft_v1_TracingConfig__Output } from '../../weft/v1/TracingConfig';
import type { LoggingConfig as _weft_v1_LoggingConfig, LoggingConfig__Output as _weft_v1_LoggingConfig__Output } from '../../weft/v1/LoggingConfig';

export interface TelemetrySpec {
  'service'?: (string);
  'tracing'?: (_weft_v1_TracingConfig | null);
  'logging'?: (_weft_v1_LoggingConfig | null);
}

export interface TelemetrySpec__Output {
  'service': (string);
  'tracing': (_weft_v1_TracingConfig__Output | null);
  'logging': (_weft_v1_LoggingConfig__Output | null);
}
