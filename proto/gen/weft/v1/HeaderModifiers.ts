// Original file: weft/v1/config.proto

import type { HeaderOperations as _weft_v1_HeaderOperations, HeaderOperations__Output as _weft_v1_HeaderOperations__Output } from '../../weft/v1/HeaderOperations';

export interface HeaderModifiers {
  'request'?: (_weft_v1_HeaderOperations | null);
  'response'?: (_weft_v1_HeaderOperations | null);
}

export interface HeaderModifiers__Output {
  'request': (_weft_v1_HeaderOperations__Output | null);
  'response': (_weft_v1_HeaderOperations__Output | null);
}
