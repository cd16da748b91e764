/**
 * The customer channel's endpoint: the WebSocket API and its `prod` stage, whose URL chat clients keep.
 * It holds no handlers, so the functions that post to connections (workflow stages, consumers, case API)
 * and the functions behind the routes (ApiStack) can all depend on it without a cycle.
 * It also sets the account's API Gateway logging role, which every access-logged stage needs.
 */
import { Aws, type CfnElement, CfnOutput, Fn, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AccessLogFormat, CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import { LogGroupLogDestination, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Grant, type IGrantable, ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { Construct as ConstructBase } from 'constructs';
import type { CustomerChannel } from '../constructs/supportDeskWiring';

export const WEBSOCKET_STAGE = 'prod';

export interface WebSocketStackProps extends StackProps {
  /** Encrypts the access logs (they hold client IPs). */
  readonly logKey: IKey;
  /** @default 100 requests per second */
  readonly rateLimit?: number;
  /** @default 200 requests */
  readonly burstLimit?: number;
}

export class WebSocketStack extends Stack implements CustomerChannel {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;
  /**
   * The API id is shared under this fixed export name where it is part of a wildcard IAM resource, so the
   * cdk-nag finding acknowledged for it is stable and readable.
   */
  readonly apiIdExportName: string;

  constructor(scope: Construct, id: string, props: WebSocketStackProps) {
    super(scope, id, props);
    const rateLimit = props.rateLimit ?? 100;
    const burstLimit = props.burstLimit ?? 200;
    if (!(rateLimit > 0 && burstLimit >= rateLimit)) {
      throw new Error(
        `WebSocketStack: need rateLimit > 0 and burstLimit >= rateLimit, got ${rateLimit}/${burstLimit}`,
      );
    }

    const apiGatewayLogging = new Role(this, 'ApiGatewayLoggingRole', {
      assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
      managedPolicies: [
        ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      ],
    });
    Validations.of(apiGatewayLogging).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-level API Gateway logging role must create log groups named by API Gateway at run time; ' +
        'AWS maintains this service-role policy for exactly that purpose.',
    });
    const account = new CfnAccount(this, 'ApiGatewayAccount', {
      cloudWatchRoleArn: apiGatewayLogging.roleArn,
    });

    this.api = new WebSocketApi(this, 'Api', {
      description: 'SupportMax customer chat (routes and handlers live in the API stack)',
      routeSelectionExpression: '$request.body.action',
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      encryptionKey: props.logKey,
    });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: WEBSOCKET_STAGE,
      autoDeploy: true,
      throttle: { rateLimit, burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            connectionId: '$context.connectionId',
            routeKey: '$context.routeKey',
            eventType: '$context.eventType',
            status: '$context.status',
            sourceIp: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            integrationLatency: '$context.integrationLatency',
            error: '$context.error.message',
          }),
        ),
      },
    });
    this.stage.node.addDependency(account);

    this.apiIdExportName = `${this.stackName}-WebSocketApiId`;
    new CfnOutput(this, 'WebSocketApiId', { value: this.api.apiId, exportName: this.apiIdExportName });
    new CfnOutput(this, 'WebSocketUrl', { value: this.stage.url, description: 'Chat clients connect here' });
  }

  get callbackUrl(): string {
    return this.stage.callbackUrl;
  }

  grantManageConnections(grantee: IGrantable): Grant {
    const principal = grantee.grantPrincipal;
    if (!(principal instanceof ConstructBase)) {
      throw new Error(
        'WebSocketStack.grantManageConnections: the grantee must be a role defined in this app',
      );
    }
    const consumer = Stack.of(principal);
    const sameStack = consumer === this;
    const apiId = sameStack ? this.api.apiId : Fn.importValue(this.apiIdExportName);
    if (!sameStack) consumer.addStackDependency(this, 'posts to WebSocket connections');
    const connections = (id: string) =>
      `arn:${Aws.PARTITION}:execute-api:${this.region}:${this.account}:${id}/${WEBSOCKET_STAGE}/POST/@connections/*`;
    // cdk-nag names the resource with references flattened: <LogicalId> for a Ref, the export name for an import.
    const apiIdInFinding = sameStack
      ? `<${this.getLogicalId(this.api.node.defaultChild as CfnElement)}>`
      : this.apiIdExportName;
    Validations.of(principal).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${connections(apiIdInFinding).replace(Aws.PARTITION, '<AWS::Partition>')}]`,
      reason:
        'Connection ids are created per client at run time; the grant is limited to POST (send a frame) on ' +
        "this API's prod stage.",
    });
    return Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:ManageConnections'],
      resourceArns: [connections(apiId)],
    });
  }
}
