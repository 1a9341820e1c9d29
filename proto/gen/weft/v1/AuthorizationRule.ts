// Original file: weft/v1/config.proto


export interface AuthorizationRule {
  'action'?: (string);
  'from'?: (string)[];
  'methods'?: (string)[];
  'path_prefix'?: (string);
  'path_exact'?: (string);
}

export interface AuthorizationRule__Output {
  'action': (string);
  'from': (string)[];
  'methods': (string)[];
  'path_prefix': (string);
  'path_exact': (string);
}
