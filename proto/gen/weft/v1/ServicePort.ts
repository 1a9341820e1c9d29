// Original file: weft/v1/resources.proto


export interface ServicePort {
  'name'?: (string);
  'port'?: (number);
  'protocol'?: (string);
}

export interface ServicePort__Output {
  'name': (string);
  'port': (number);
  'protocol': (string);
}
