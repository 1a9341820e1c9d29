// Original file: weft/v1/config.proto


export interface RetryPolicy {
  'attempts'?: (number);
  'per_try_timeout_ms'?: (number);
  'retry_on_status'?: (number)[];
  'retry_on_connect_failure'?: (boolean);
  'budget_ratio'?: (number | string);
}

export interface RetryPolicy__Output {
  'attempts': (number);
  'per_try_timeout_ms': (number);
  'retry_on_status': (number)[];
  'retry_on_connect_failure': (boolean);
  'budget_ratio': (number);
}
