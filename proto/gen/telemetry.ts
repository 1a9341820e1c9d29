import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { LogBatch as _weft_v1_LogBatch, LogBatch__Output as _weft_v1_LogBatch__Output } from './weft/v1/LogBatch';
import type { LogRecord as _weft_v1_LogRecord, LogRecord__Output as _weft_v1_LogRecord__Output } from './weft/v1/LogRecord';
import type { LogSinkClient as _weft_v1_LogSinkClient, LogSinkDefinition as _weft_v1_LogSinkDefinition } from './weft/v1/LogSink';
import type { PushLogsResponse as _weft_v1_PushLogsResponse, PushLogsResponse__Output as _weft_v1_PushLogsResponse__Output } from './weft/v1/PushLogsResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  weft: {
    v1: {
      LogBatch: MessageTypeDefinition<_weft_v1_LogBatch, _weft_v1_LogBatch__Output>
      LogRecord: MessageTypeDefinition<_weft_v1_LogRecord, _weft_v1_LogRecord__Output>
      LogSink: SubtypeConstructor<typeof grpc.Client, _weft_v1_LogSinkClient> & { service: _weft_v1_LogSinkDefinition }
      PushLogsResponse: MessageTypeDefinition<_weft_v1_PushLogsResponse, _weft_v1_PushLogsResponse__Output>
    }
  }
}

