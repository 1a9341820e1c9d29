// Original file: weft/v1/config.proto


export interface HeaderOperations {
  'set'?: ({[key: string]: string});
  'add'?: ({[key: string]: string});
  'remove'?: (string)[];
}

export interface HeaderOperations__Output {
  'set': ({[key: string]: string});
  'add': ({[key: string]: string});
  'remove': (string)[];
}
