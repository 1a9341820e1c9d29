// Original file: weft/v1/config.proto

import type { NamedRoute as _weft_v1_NamedRoute, NamedRoute__Output as _weft_v1_NamedRoute__Output } from '../../weft/v1/NamedRoute';

export interface ServiceRoutes {
  'service'?: (string);
  'routes'?: (_weft_v1_NamedRoute)[];
}

export interface ServiceRoutes__Output {
  'service': (string);
  'routes': (_weft_v1_NamedRoute__Output)[];
}
