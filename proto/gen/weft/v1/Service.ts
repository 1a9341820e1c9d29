// Original file: weft/v1/resources.proto

import type { ServicePort as _weft_v1_ServicePort, ServicePort__Output as _weft_v1_ServicePort__Output } from '../../weft/v1/ServicePort';

export interface Service {
  'name'?: (string);
  'virtual_ip'?: (string);
  'ports'?: (_weft_v1_ServicePort)[];
  'labels'?: ({[key: string]: string});
  'origin'?: (string);
  'mtls_mode'?: (string);
}

export interface Service__Output {
  'name': (string);
  'virtual_ip': (string);
  'ports': (_weft_v1_ServicePort__Output)[];
  'labels': ({[key: string]: string});
  'origin': (string);
  'mtls_mode': (string);
}
