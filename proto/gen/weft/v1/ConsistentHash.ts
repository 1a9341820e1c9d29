// Original file: weft/v1/config.proto

import type { GenerateCookie as _weft_v1_GenerateCookie, GenerateCookie__Output as _weft_v1_GenerateCookie__Output } from '../../weft/v1/GenerateCookie';

export interface ConsistentHash {
  'http_header_name'?: (string);
  'http_cookie_name'?: (string);
  'http_query_parameter_name'?: (string);
  'use_source_ip'?: (boolean);
  'generate_cookie'?: (_weft_v1_GenerateCookie | null);
}

export interface ConsistentHash__Output {
  'http_header_name': (string);
  'http_cookie_name': (string);
  'http_query_parameter_name': (string);
  'use_source_ip': (boolean);
  'generate_cookie': (_weft_v1_GenerateCookie__Output | null);
}
