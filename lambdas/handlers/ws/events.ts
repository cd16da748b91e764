/** The part of API Gateway's WebSocket Lambda event the handlers read. */
export interface WebSocketRequest {
  readonly requestContext: {
    readonly connectionId: string;
    readonly routeKey: string;
    readonly identity?: { readonly sourceIp?: string };
    /** What the $connect authorizer allowed: `{ principalId, username, roles }` for an operator. */
    readonly authorizer?: unknown;
  };
  /** $connect only, e.g. the customer token `?token=`. */
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
}
