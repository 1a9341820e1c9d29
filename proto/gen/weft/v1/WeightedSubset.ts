// Original file: weft/v1/config.proto


export interface WeightedSubset {
  'labels'?: ({[key: string]: string});
  'weight'?: (number);
}

export interface WeightedSubset__Output {
  'labels': ({[key: string]: string});
  'weight': (number);
}
