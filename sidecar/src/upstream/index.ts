// The routing layer (issue #7): route matching, weighted splits, load balancing, outlier
// detection, circuit breaking, retries with a budget, timeouts and fault injection, behind one
// ServiceUpstreams.plan per request. plan.ts is the contract with the proxies.
export { endpointPort } from "./endpoint-stats";
export {
  type AttemptOutcome,
  type AttemptTarget,
  IDEMPOTENT_METHODS,
  type InjectedFault,
  isRefusal,
  REPLAY_BODY_LIMIT_BYTES,
  type Refusal,
  type RequestPlan,
} from "./plan";
export { meshTlsFor, type PlanInput, ServiceUpstreams, type UpstreamsOptions } from "./service-upstreams";
