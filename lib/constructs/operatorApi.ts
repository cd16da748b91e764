/**
 * The operator REST API (/api/...): Cognito-authorized case, metrics and audit routes plus an open health check,
 * request validation, access and execution logging, X-Ray, stage throttling and a WAF web ACL.
 */
import { Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  CognitoUserPoolsAuthorizer,
  EndpointType,
  type IModel,
  JsonSchemaType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type Resource,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IUserPool } from 'aws-cdk-lib/aws-cognito';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { MAX_MESSAGE_CHARS } from '#core/chatProtocol';

export const REST_STAGE = 'prod';

export interface OperatorApiHandlers {
  /** GET /api/health (no authorization: load balancers and uptime checks call it). */
  readonly health: IFunction;
  /** GET /api/metrics */
  readonly metrics: IFunction;
  /** GET /api/cases, GET /api/cases/{caseId}, POST .../takeover | reply | resolve */
  readonly cases: IFunction;
  /** GET /api/audit?day=YYYY-MM-DD&limit=&cursor= (the handler requires a supervisor) */
  readonly audit: IFunction;
  /** GET | DELETE /api/customers/{customerId}: GDPR export and erasure (the handler requires an admin) */
  readonly customers: IFunction;
}

export interface OperatorApiProps {
  readonly handlers: OperatorApiHandlers;
  /** Operators' user pool: every route but health needs one of its ID tokens. */
  readonly userPool: IUserPool;
  /** Encrypts the access logs (they hold caller IPs and user ids). */
  readonly logKey: IKey;
  /** @default 50 requests per second */
  readonly rateLimit?: number;
  /** @default 100 requests */
  readonly burstLimit?: number;
  /** Requests per client IP per 5 minutes before WAF blocks it. @default 2000 */
  readonly requestsPerIpPer5Minutes?: number;
}

export class OperatorApi extends Construct {
  readonly api: RestApi;
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: OperatorApiProps) {
    super(scope, id);
    const rateLimit = props.rateLimit ?? 50;
    const burstLimit = props.burstLimit ?? 100;
    const ipLimit = props.requestsPerIpPer5Minutes ?? 2000;
    if (!(rateLimit > 0 && burstLimit >= rateLimit)) {
      throw new Error(
        `OperatorApi ${id}: need rateLimit > 0 and burstLimit >= rateLimit, got ${rateLimit}/${burstLimit}`,
      );
    }
    if (!(Number.isInteger(ipLimit) && ipLimit >= 10)) {
      throw new Error(
        `OperatorApi ${id}: requestsPerIpPer5Minutes must be an integer >= 10 (WAF minimum), got ${ipLimit}`,
      );
    }

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      encryptionKey: props.logKey,
    });
    this.api = new RestApi(this, 'Api', {
      description: 'SupportMax operator API (cases, metrics, audit, health)',
      endpointTypes: [EndpointType.REGIONAL],
      // The account's API Gateway logging role is set once, by the WebSocket stack.
      cloudWatchRole: false,
      deployOptions: {
        stageName: REST_STAGE,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: rateLimit,
        throttlingBurstLimit: burstLimit,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
      },
    });
    // Validation failures answer in the handlers' error shape: {"error":{"code","message"}}.
    for (const [name, type] of [
      ['BadBody', ResponseType.BAD_REQUEST_BODY],
      ['BadParameters', ResponseType.BAD_REQUEST_PARAMETERS],
    ] as const) {
      this.api.addGatewayResponse(name, {
        type,
        statusCode: '400',
        templates: {
          'application/json':
            '{"error":{"code":"ValidationError","message":"$context.error.validationErrorString"}}',
        },
      });
    }
    const validator = this.api.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const authorizer = new CognitoUserPoolsAuthorizer(this, 'OperatorAuthorizer', {
      cognitoUserPools: [props.userPool],
    });
    const replyModel = this.api.addModel('AgentReply', {
      contentType: 'application/json',
      schema: {
        type: JsonSchemaType.OBJECT,
        required: ['text'],
        properties: {
          text: { type: JsonSchemaType.STRING, minLength: 1, maxLength: MAX_MESSAGE_CHARS },
          agentName: { type: JsonSchemaType.STRING, maxLength: 60 },
        },
        additionalProperties: false,
      },
    });

    const integrations = new Map<IFunction, LambdaIntegration>();
    const integration = (fn: IFunction) => {
      let found = integrations.get(fn);
      if (!found) {
        found = new LambdaIntegration(fn, { allowTestInvoke: false });
        integrations.set(fn, found);
      }
      return found;
    };
    const secured = (
      resource: Resource,
      method: 'GET' | 'POST' | 'DELETE',
      fn: IFunction,
      options: { parameters?: Record<string, boolean>; body?: IModel } = {},
    ) =>
      resource.addMethod(method, integration(fn), {
        authorizer,
        authorizationType: AuthorizationType.COGNITO,
        requestValidator: validator,
        requestParameters: options.parameters,
        requestModels: options.body ? { 'application/json': options.body } : undefined,
      });

    const root = this.api.root.addResource('api');
    const health = root.addResource('health').addMethod('GET', integration(props.handlers.health), {
      authorizationType: AuthorizationType.NONE,
    });
    for (const rule of ['AwsSolutions-APIG4', 'AwsSolutions-COG4']) {
      Validations.of(health).acknowledge({
        id: rule,
        reason: 'The health check is public by design (uptime probes); it returns component status only.',
      });
    }
    secured(root.addResource('metrics'), 'GET', props.handlers.metrics, {
      parameters: { 'method.request.querystring.window': false },
    });
    const cases = root.addResource('cases');
    secured(cases, 'GET', props.handlers.cases, {
      parameters: { 'method.request.querystring.status': false },
    });
    const oneCase = cases.addResource('{caseId}');
    const caseId = { 'method.request.path.caseId': true };
    secured(oneCase, 'GET', props.handlers.cases, { parameters: caseId });
    secured(oneCase.addResource('takeover'), 'POST', props.handlers.cases, { parameters: caseId });
    secured(oneCase.addResource('reply'), 'POST', props.handlers.cases, {
      parameters: caseId,
      body: replyModel,
    });
    secured(oneCase.addResource('resolve'), 'POST', props.handlers.cases, { parameters: caseId });
    const customer = root.addResource('customers').addResource('{customerId}');
    const customerId = { 'method.request.path.customerId': true };
    secured(customer, 'GET', props.handlers.customers, { parameters: customerId });
    secured(customer, 'DELETE', props.handlers.customers, { parameters: customerId });
    // The day is required (the gateway answers 400 without it); its format is the handler's to check.
    secured(root.addResource('audit'), 'GET', props.handlers.audit, {
      parameters: {
        'method.request.querystring.day': true,
        'method.request.querystring.limit': false,
        'method.request.querystring.cursor': false,
      },
    });

    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    const managed = (name: string, priority: number): CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      visibilityConfig: visibility(name),
    });
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: 'SupportMax operator API: per-IP rate limit and AWS managed protections',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('SupportMaxOperatorApi'),
      rules: [
        {
          name: 'RateLimitPerIp',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: ipLimit, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('RateLimitPerIp'),
        },
        managed('AWSManagedRulesCommonRuleSet', 1),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 2),
      ],
    });
    new CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
