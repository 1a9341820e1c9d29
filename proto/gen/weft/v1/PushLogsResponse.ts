// Original file: weft/v1/telemetry.proto

import type { Long } from '@grpc/proto-loader';

export interface PushLogsResponse {
  'accepted'?: (number | string | Long);
  'dropped'?: (number | string | Long);
}

export interface PushLogsResponse__Output {
  'accepted': (string);
  'dropped': (string);
}
