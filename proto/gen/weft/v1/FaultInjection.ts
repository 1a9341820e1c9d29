// Original file: weft/v1/config.proto


export interface FaultInjection {
  'delay_ratio'?: (number | string);
  'delay_ms'?: (number);
  'abort_ratio'?: (number | string);
  'abort_status'?: (number);
}

export interface FaultInjection__Output {
  'delay_ratio': (number);
  'delay_ms': (number);
  'abort_ratio': (number);
  'abort_status': (number);
}
