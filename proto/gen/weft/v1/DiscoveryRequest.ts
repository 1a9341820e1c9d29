// Original file: weft/v1/discovery.proto

import type { Node as _weft_v1_Node, Node__Output as _weft_v1_Node__Output } from '../../weft/v1/Node';
import type { Status as _weft_v1_Status, Status__Output as _weft_v1_Status__Output } from '../../weft/v1/Status';

export interface DiscoveryRequest {
  'node'?: (_weft_v1_Node | null);
  'type_url'?: (string);
  'version_info'?: (string);
  'response_nonce'?: (string);
  'resource_names'?: (string)[];
  'error_detail'?: (_weft_v1_Status | null);
}

export interface DiscoveryRequest__Output {
  'node': (_weft_v1_Node__Output | null);
  'type_url': (string);
  'version_info': (string);
  'response_nonce': (string);
  'resource_names': (string)[];
  'error_detail': (_weft_v1_Status__Output | null);
}
