// Original file: weft/v1/config.proto

import type { CircuitBreaker as _weft_v1_CircuitBreaker, CircuitBreaker__Output as _weft_v1_CircuitBreaker__Output } from '../../weft/v1/CircuitBreaker';
import type { OutlierDetection as _weft_v1_OutlierDetection, OutlierDetection__Output as _weft_v1_OutlierDetection__Output } from '../../weft/v1/OutlierDetection';
import type { ConsistentHash as _weft_v1_ConsistentHash, ConsistentHash__Output as _weft_v1_ConsistentHash__Output } from '../../weft/v1/ConsistentHash';
import type { RateLimit as _weft_v1_RateLimit, RateLimit__Output as _weft_v1_RateLimit__Output } from '../../weft/v1/RateLimit';

export interface ResiliencePolicySpec {
  'service'?: (string);
  'circuit_breaker'?: (_weft_v1_CircuitBreaker | null);
  'outlier_detection'?: (_weft_v1_OutlierDetection | null);
  'load_balancer'?: (string);
  'consistent_hash'?: (_weft_v1_ConsistentHash | null);
  'rate_limit'?: (_weft_v1_RateLimit | null);
}

export interface ResiliencePolicySpec__Output {
  'service': (string);
  'circuit_breaker': (_weft_v1_CircuitBreaker__Output | null);
  'outlier_detection': (_weft_v1_OutlierDetection__Output | null);
  'load_balancer': (string);
  'consistent_hash': (_weft_v1_ConsistentHash__Output | null);
  'rate_limit': (_weft_v1_RateLimit__Output | null);
}
