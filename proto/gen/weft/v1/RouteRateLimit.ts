// Original file: weft/v1/config.proto


export interface RouteRateLimit {
  'path_prefix'?: (string);
  'path_exact'?: (string);
  'method'?: (string);
  'requests_per_second'?: (number);
  'burst'?: (number);
}

export interface RouteRateLimit__Output {
  'path_prefix': (string);
  'path_exact': (string);
  'method': (string);
  'requests_per_second': (number);
  'burst': (number);
}
