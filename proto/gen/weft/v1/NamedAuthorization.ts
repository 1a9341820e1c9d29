// Original file: weft/v1/config.proto

import type { AuthorizationPolicySpec as _weft_v1_AuthorizationPolicySpec, AuthorizationPolicySpec__Output as _weft_v1_AuthorizationPolicySpec__Output } from '../../weft/v1/AuthorizationPolicySpec';
import type { Long } from '@grpc/proto-loader';

export interface NamedAuthorization {
  'name'?: (string);
  'version'?: (number | string | Long);
  'spec'?: (_weft_v1_AuthorizationPolicySpec | null);
}

export interface NamedAuthorization__Output {
  'name': (string);
  'version': (string);
  'spec': (_weft_v1_AuthorizationPolicySpec__Output | null);
}
