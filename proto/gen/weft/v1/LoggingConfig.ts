// Original file: weft/v1/config.proto


export interface LoggingConfig {
  'level'?: (string);
  'access_log'?: (boolean);
  'fields'?: (string)[];
  'sampling_ratio'?: (number | string);
  'sinks'?: (string)[];
}

export interface LoggingConfig__Output {
  'level': (string);
  'access_log': (boolean);
  'fields': (string)[];
  'sampling_ratio': (number);
  'sinks': (string)[];
}
