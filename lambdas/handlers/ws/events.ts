/** The part of API Gateway's WebSocket Lambda event the handlers read. */
export interface WebSocketRequest {
  readonly requestContext: {
    readonly connectionId: string;
    readonly routeKey: string;
    readonly identity?: { readonly sourceIp?: string };
  };
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
}
