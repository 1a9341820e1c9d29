// Original file: weft/v1/config.proto

import type { RouteRule as _weft_v1_RouteRule, RouteRule__Output as _weft_v1_RouteRule__Output } from '../../weft/v1/RouteRule';

export interface RouteSpec {
  'service'?: (string);
  'rules'?: (_weft_v1_RouteRule)[];
}

export interface RouteSpec__Output {
  'service': (string);
  'rules': (_weft_v1_RouteRule__Output)[];
}
