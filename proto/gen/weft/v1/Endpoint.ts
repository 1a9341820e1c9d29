// Original file: weft/v1/resources.proto

import type { ServicePort as _weft_v1_ServicePort, ServicePort__Output as _weft_v1_ServicePort__Output } from '../../weft/v1/ServicePort';

export interface Endpoint {
  'id'?: (string);
  'service'?: (string);
  'address'?: (string);
  'ports'?: (_weft_v1_ServicePort)[];
  'labels'?: ({[key: string]: string});
  'workload'?: (string);
  'node'?: (string);
  'healthy'?: (boolean);
  'source'?: (string);
}

export interface Endpoint__Output {
  'id': (string);
  'service': (string);
  'address': (string);
  'ports': (_weft_v1_ServicePort__Output)[];
  'labels': ({[key: string]: string});
  'workload': (string);
  'node': (string);
  'healthy': (boolean);
  'source': (string);
}
