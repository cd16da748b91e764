/**
 * The one DynamoDB DocumentClient per process (per Lambda container), built on first use. It takes region,
 * credentials and endpoint from the SDK's default chain, so locally AWS_ENDPOINT_URL_DYNAMODB points the
 * same adapters at dynalite.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

let client: DynamoDBDocumentClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  client ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    // Optional record fields arrive as undefined; DynamoDB rejects them instead of skipping them.
    marshallOptions: { removeUndefinedValues: true },
  });
  return client;
}
