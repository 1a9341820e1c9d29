// Original file: weft/v1/discovery.proto

import type { Resource as _weft_v1_Resource, Resource__Output as _weft_v1_Resource__Output } from '../../weft/v1/Resource';

export interface DiscoveryResponse {
  'type_url'?: (string);
  'version_info'?: (string);
  'nonce'?: (string);
  'resources'?: (_weft_v1_Resource)[];
  'removed_resources'?: (string)[];
  'incremental'?: (boolean);
}

export interface DiscoveryResponse__Output {
  'type_url': (string);
  'version_info': (string);
  'nonce': (string);
  'resources': (_weft_v1_Resource__Output)[];
  'removed_resources': (string)[];
  'incremental': (boolean);
}
