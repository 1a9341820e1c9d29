// Original file: weft/v1/config.proto

import type { RouteMatch as _weft_v1_RouteMatch, RouteMatch__Output as _weft_v1_RouteMatch__Output } from '../../weft/v1/RouteMatch';
import type { WeightedSubset as _weft_v1_WeightedSubset, WeightedSubset__Output as _weft_v1_WeightedSubset__Output } from '../../weft/v1/WeightedSubset';
import type { RetryPolicy as _weft_v1_RetryPolicy, RetryPolicy__Output as _weft_v1_RetryPolicy__Output } from '../../weft/v1/RetryPolicy';
import type { FaultInjection as _weft_v1_FaultInjection, FaultInjection__Output as _weft_v1_FaultInjection__Output } from '../../weft/v1/FaultInjection';
import type { HeaderModifiers as _weft_v1_HeaderModifiers, HeaderModifiers__Output as _weft_v1_HeaderModifiers__Output } from '../../weft/v1/HeaderModifiers';
import type { HttpRewrite as _weft_v1_HttpRewrite, HttpRewrite__Output as _weft_v1_HttpRewrite__Output } from '../../weft/v1/HttpRewrite';
import type { HttpRedirect as _weft_v1_HttpRedirect, HttpRedirect__Output as _weft_v1_HttpRedirect__Output } from '../../weft/v1/HttpRedirect';
import type { HttpMirror as _weft_v1_HttpMirror, HttpMirror__Output as _weft_v1_HttpMirror__Output } from '../../weft/v1/HttpMirror';

export interface RouteRule {
  'match'?: (_weft_v1_RouteMatch | null);
  'split'?: (_weft_v1_WeightedSubset)[];
  'timeout_ms'?: (number);
  'retries'?: (_weft_v1_RetryPolicy | null);
  'fault'?: (_weft_v1_FaultInjection | null);
  'headers'?: (_weft_v1_HeaderModifiers | null);
  'rewrite'?: (_weft_v1_HttpRewrite | null);
  'redirect'?: (_weft_v1_HttpRedirect | null);
  'mirror'?: (_weft_v1_HttpMirror | null);
}

export interface RouteRule__Output {
  'match': (_weft_v1_RouteMatch__Output | null);
  'split': (_weft_v1_WeightedSubset__Output)[];
  'timeout_ms': (number);
  'retries': (_weft_v1_RetryPolicy__Output | null);
  'fault': (_weft_v1_FaultInjection__Output | null);
  'headers': (_weft_v1_HeaderModifiers__Output | null);
  'rewrite': (_weft_v1_HttpRewrite__Output | null);
  'redirect': (_weft_v1_HttpRedirect__Output | null);
  'mirror': (_weft_v1_HttpMirror__Output | null);
}
