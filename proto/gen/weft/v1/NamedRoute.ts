// Original file: weft/v1/config.proto

import type { RouteSpec as _weft_v1_RouteSpec, RouteSpec__Output as _weft_v1_RouteSpec__Output } from '../../weft/v1/RouteSpec';
import type { Long } from '@grpc/proto-loader';

export interface NamedRoute {
  'name'?: (string);
  'version'?: (number | string | Long);
  'spec'?: (_weft_v1_RouteSpec | null);
}

export interface NamedRoute__Output {
  'name': (string);
  'version': (string);
  'spec': (_weft_v1_RouteSpec__Output | null);
}
