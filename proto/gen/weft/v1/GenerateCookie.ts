// Original file: weft/v1/config.proto


export interface GenerateCookie {
  'path'?: (string);
  'ttl_seconds'?: (number);
}

export interface GenerateCookie__Output {
  'path': (string);
  'ttl_seconds': (number);
}
