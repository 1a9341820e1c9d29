// Original file: weft/v1/config.proto


export interface ConsistentHash {
  'http_header_name'?: (string);
  'http_cookie_name'?: (string);
  'http_query_parameter_name'?: (string);
  'use_source_ip'?: (boolean);
}

export interface ConsistentHash__Output {
  'http_header_name': (string);
  'http_cookie_name': (string);
  'http_query_parameter_name': (string);
  'use_source_ip': (boolean);
}
