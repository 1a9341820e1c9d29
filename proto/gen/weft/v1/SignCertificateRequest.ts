// Original file: weft/v1/identity.proto

import type { Node as _weft_v1_Node, Node__Output as _weft_v1_Node__Output } from '../../weft/v1/Node';

export interface SignCertificateRequest {
  'node'?: (_weft_v1_Node | null);
  'csr_pem'?: (string);
  'validity_seconds'?: (number);
}

export interface SignCertificateRequest__Output {
  'node': (_weft_v1_Node__Output | null);
  'csr_pem': (string);
  'validity_seconds': (number);
}
