// Original file: weft/v1/identity.proto


export interface SignCertificateResponse {
  'identity'?: (string);
  'certificate_pem'?: (string);
  'trust_bundle_pem'?: (string)[];
}

export interface SignCertificateResponse__Output {
  'identity': (string);
  'certificate_pem': (string);
  'trust_bundle_pem': (string)[];
}
