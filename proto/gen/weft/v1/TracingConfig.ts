// Original file: weft/v1/config.proto


export interface TracingConfig {
  'enabled'?: (boolean);
  'sampling_ratio'?: (number | string);
  'otlp_endpoint'?: (string);
  'resource_attributes'?: ({[key: string]: string});
}

export interface TracingConfig__Output {
  'enabled': (boolean);
  'sampling_ratio': (number);
  'otlp_endpoint': (string);
  'resource_attributes': ({[key: string]: string});
}
