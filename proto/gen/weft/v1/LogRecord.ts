// Original file: weft/v1/telemetry.proto

import type { Long } from '@grpc/proto-loader';

export interface LogRecord {
  'time_unix_nano'?: (number | string | Long);
  'service'?: (string);
  'container'?: (string);
  'instance'?: (string);
  'level'?: (string);
  'source'?: (string);
  'message'?: (string);
  'trace_id'?: (string);
  'span_id'?: (string);
  'attributes'?: ({[key: string]: string});
}

export interface LogRecord__Output {
  'time_unix_nano': (string);
  'service': (string);
  'container': (string);
  'instance': (string);
  'level': (string);
  'source': (string);
  'message': (string);
  'trace_id': (string);
  'span_id': (string);
  'attributes': ({[key: string]: string});
}
