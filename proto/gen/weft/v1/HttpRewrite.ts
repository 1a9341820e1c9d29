// Original file: weft/v1/config.proto


export interface HttpRewrite {
  'path'?: (string);
  'path_prefix'?: (string);
  'authority'?: (string);
}

export interface HttpRewrite__Output {
  'path': (string);
  'path_prefix': (string);
  'authority': (string);
}
