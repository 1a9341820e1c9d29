// Original file: weft/v1/config.proto


export interface OutlierDetection {
  'consecutive_5xx'?: (number);
  'consecutive_connect_failures'?: (number);
  'interval_ms'?: (number);
  'base_ejection_time_ms'?: (number);
  'max_ejection_ratio'?: (number | string);
}

export interface OutlierDetection__Output {
  'consecutive_5xx': (number);
  'consecutive_connect_failures': (number);
  'interval_ms': (number);
  'base_ejection_time_ms': (number);
  'max_ejection_ratio': (number);
}
