/**
 * Pushes JSON frames to WebSocket clients through the API Gateway management API (the same client against
 * AWS and the local gateway). A gone connection is reported as `false`, not thrown.
 */
import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionNotifier } from '#core/supportRecords';

export class WebSocketNotifier implements ConnectionNotifier {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  static forEndpoint(endpoint: string): WebSocketNotifier {
    return new WebSocketNotifier(new ApiGatewayManagementApiClient({ endpoint }));
  }

  async send(connectionId: string, frame: object): Promise<boolean> {
    try {
      await this.client.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(frame)) }),
      );
      return true;
    } catch (error) {
      if (error instanceof GoneException || (error as Error).name === 'GoneException') return false;
      throw error;
    }
  }
}
