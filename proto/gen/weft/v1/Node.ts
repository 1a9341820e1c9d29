// Original file: weft/v1/discovery.proto


export interface Node {
  'id'?: (string);
  'workload'?: (string);
  'service'?: (string);
  'address'?: (string);
  'labels'?: ({[key: string]: string});
}

export interface Node__Output {
  'id': (string);
  'workload': (string);
  'service': (string);
  'address': (string);
  'labels': ({[key: string]: string});
}
