// Original file: weft/v1/config.proto


export interface CircuitBreaker {
  'max_connections'?: (number);
  'max_pending_requests'?: (number);
  'max_requests_per_connection'?: (number);
}

export interface CircuitBreaker__Output {
  'max_connections': (number);
  'max_pending_requests': (number);
  'max_requests_per_connection': (number);
}
