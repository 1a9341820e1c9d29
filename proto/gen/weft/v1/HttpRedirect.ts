// Original file: weft/v1/config.proto


export interface HttpRedirect {
  'path'?: (string);
  'path_prefix'?: (string);
  'authority'?: (string);
  'scheme'?: (string);
  'status'?: (number);
}

export interface HttpRedirect__Output {
  'path': (string);
  'path_prefix': (string);
  'authority': (string);
  'scheme': (string);
  'status': (number);
}
