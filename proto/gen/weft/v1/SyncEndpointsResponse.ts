// Original file: weft/v1/registration.proto

import type { Service as _weft_v1_Service, Service__Output as _weft_v1_Service__Output } from '../../weft/v1/Service';
import type { Long } from '@grpc/proto-loader';

export interface SyncEndpointsResponse {
  'index'?: (number | string | Long);
  'services'?: (_weft_v1_Service)[];
}

export interface SyncEndpointsResponse__Output {
  'index': (string);
  'services': (_weft_v1_Service__Output)[];
}
