// Original file: weft/v1/telemetry.proto

import type { LogRecord as _weft_v1_LogRecord, LogRecord__Output as _weft_v1_LogRecord__Output } from '../../weft/v1/LogRecord';
import type { Long } from '@grpc/proto-loader';

export interface LogBatch {
  'records'?: (_weft_v1_LogRecord)[];
  'dropped_since_last'?: (number | string | Long);
}

export interface LogBatch__Output {
  'records': (_weft_v1_LogRecord__Output)[];
  'dropped_since_last': (string);
}
