// Original file: weft/v1/config.proto

import type { RouteRateLimit as _weft_v1_RouteRateLimit, RouteRateLimit__Output as _weft_v1_RouteRateLimit__Output } from '../../weft/v1/RouteRateLimit';

export interface RateLimit {
  'requests_per_second'?: (number);
  'burst'?: (number);
  'routes'?: (_weft_v1_RouteRateLimit)[];
}

export interface RateLimit__Output {
  'requests_per_second': (number);
  'burst': (number);
  'routes': (_weft_v1_RouteRateLimit__Output)[];
}
