// Original file: weft/v1/config.proto

import type { TelemetrySpec as _weft_v1_TelemetrySpec, TelemetrySpec__Output as _weft_v1_TelemetrySpec__Output } from '../../weft/v1/TelemetrySpec';
import type { Long } from '@grpc/proto-loader';

export interface TelemetryConfig {
  'name'?: (string);
  'version'?: (number | string | Long);
  'spec'?: (_weft_v1_TelemetrySpec | null);
}

export interface TelemetryConfig__Output {
  'name': (string);
  'version': (string);
  'spec': (_weft_v1_TelemetrySpec__Output | null);
}
