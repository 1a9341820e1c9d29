// Original file: weft/v1/config.proto

import type { ResiliencePolicySpec as _weft_v1_ResiliencePolicySpec, ResiliencePolicySpec__Output as _weft_v1_ResiliencePolicySpec__Output } from '../../weft/v1/ResiliencePolicySpec';
import type { NamedAuthorization as _weft_v1_NamedAuthorization, NamedAuthorization__Output as _weft_v1_NamedAuthorization__Output } from '../../weft/v1/NamedAuthorization';
import type { Long } from '@grpc/proto-loader';

export interface ServicePolicy {
  'service'?: (string);
  'name'?: (string);
  'version'?: (number | string | Long);
  'spec'?: (_weft_v1_ResiliencePolicySpec | null);
  'authorization'?: (_weft_v1_NamedAuthorization | null);
}

export interface ServicePolicy__Output {
  'service': (string);
  'name': (string);
  'version': (string);
  'spec': (_weft_v1_ResiliencePolicySpec__Output | null);
  'authorization': (_weft_v1_NamedAuthorization__Output | null);
}
