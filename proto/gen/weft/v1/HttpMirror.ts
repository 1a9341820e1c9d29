// Original file: weft/v1/config.proto


export interface HttpMirror {
  'labels'?: ({[key: string]: string});
  'ratio'?: (number | string);
}

export interface HttpMirror__Output {
  'labels': ({[key: string]: string});
  'ratio': (number);
}
