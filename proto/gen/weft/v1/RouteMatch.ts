// Original file: weft/v1/config.proto


export interface RouteMatch {
  'path_prefix'?: (string);
  'path_exact'?: (string);
  'method'?: (string);
  'headers'?: ({[key: string]: string});
}

export interface RouteMatch__Output {
  'path_prefix': (string);
  'path_exact': (string);
  'method': (string);
  'headers': ({[key: string]: string});
}
