// Original file: weft/v1/identity.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { SignCertificateRequest as _weft_v1_SignCertificateRequest, SignCertificateRequest__Output as _weft_v1_SignCertificateRequest__Output } from '../../weft/v1/SignCertificateRequest';
import type { SignCertificateResponse as _weft_v1_SignCertificateResponse, SignCertificateResponse__Output as _weft_v1_SignCertificateResponse__Output } from '../../weft/v1/SignCertificateResponse';

export interface CertificateAuthorityClient extends grpc.Client {
  SignCertificate(argument: _weft_v1_SignCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_weft_v1_SignCertificateResponse__Output>): grpc.ClientUnaryCall;
  SignCertificate(argument: _weft_v1_SignCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_weft_v1_SignCertificateResponse__Output>): grpc.ClientUnaryCall;
  SignCertificate(argument: _weft_v1_SignCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_weft_v1_SignCertificateResponse__Output>): grpc.ClientUnaryCall;
  SignCertificate(argument: _weft_v1_SignCertificateRequest, callback: grpc.requestCallback<_weft_v1_SignCertificateResponse__Output>): grpc.ClientUnaryCall;
  signCertificate(argument: _weft_v1_SignCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_weft_v1_SignCertificateResponse__Output>): grpc.ClientUnaryCall;
  signCertificate(argument: _weft_v1_SignCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_weft_v1_SignCertificateResponse__Output>): grpc.ClientUnaryCall;
  signCertificate(argument: _weft_v1_SignCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_weft_v1_SignCertificateResponse__Output>): grpc.ClientUnaryCall;
  signCertificate(argument: _weft_v1_SignCertificateRequest, callback: grpc.requestCallback<_weft_v1_SignCertificateResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface CertificateAuthorityHandlers extends grpc.UntypedServiceImplementation {
  SignCertificate: grpc.handleUnaryCall<_weft_v1_SignCertificateRequest__Output, _weft_v1_SignCertificateResponse>;
  
}

export interface CertificateAuthorityDefinition extends grpc.ServiceDefinition {
  SignCertificate: MethodDefinition<_weft_v1_SignCertificateRequest, _weft_v1_SignCertificateResponse, _weft_v1_SignCertificateRequest__Output, _weft_v1_SignCertificateResponse__Output>
}
