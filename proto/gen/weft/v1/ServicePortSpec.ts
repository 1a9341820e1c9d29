// Original file: weft/v1/config.proto


export interface ServicePortSpec {
  'name'?: (string);
  'port'?: (number);
  'protocol'?: (string);
}

export interface ServicePortSpec__Output {
  'name': (string);
  'port': (number);
  'protocol': (string);
}
