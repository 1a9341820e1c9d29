// Original file: weft/v1/config.proto

import type { ServicePortSpec as _weft_v1_ServicePortSpec, ServicePortSpec__Output as _weft_v1_ServicePortSpec__Output } from '../../weft/v1/ServicePortSpec';

export interface ServiceSpec {
  'ports'?: (_weft_v1_ServicePortSpec)[];
  'mtls'?: (string);
}

export interface ServiceSpec__Output {
  'ports': (_weft_v1_ServicePortSpec__Output)[];
  'mtls': (string);
}
