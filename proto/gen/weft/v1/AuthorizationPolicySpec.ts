// Original file: weft/v1/config.proto

import type { AuthorizationRule as _weft_v1_AuthorizationRule, AuthorizationRule__Output as _weft_v1_AuthorizationRule__Output } from '../../weft/v1/AuthorizationRule';

export interface AuthorizationPolicySpec {
  'service'?: (string);
  'rules'?: (_weft_v1_AuthorizationRule)[];
  'default_action'?: (string);
}

export interface AuthorizationPolicySpec__Output {
  'service': (string);
  'rules': (_weft_v1_AuthorizationRule__Output)[];
  'default_action': (string);
}
