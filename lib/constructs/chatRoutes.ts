/**
 * The customer chat routes on the WebSocket API and the handlers behind them (lambdas/handlers/ws):
 * $connect, $disconnect, and $default / sendMessage / subscribeConsole for frames (other actions, such as
 * endConversation, arrive on $default).
 */
import { Validations } from 'aws-cdk-lib';
import { type IWebSocketApi, WebSocketRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AppFunction } from './appFunction';
import { grantEndWait } from './escalationWorkflow';
import type { SupportDeskWiring } from './supportDeskWiring';

/** Route keys served by the message handler, besides $connect and $disconnect. */
export const MESSAGE_ROUTE_KEYS = ['$default', 'sendMessage', 'subscribeConsole'] as const;

export interface ChatRoutesProps {
  readonly webSocketApi: IWebSocketApi;
  readonly desk: SupportDeskWiring;
  /** The per-turn workflow the message handler starts for every customer message. */
  readonly turnStateMachine: IStateMachine;
  /** The escalation workflow whose wait ends when a customer ends an escalated conversation. */
  readonly escalationStateMachine: IStateMachine;
  /**
   * Secrets Manager name of the HS256 secret verifying customer tokens (`?token=` on $connect).
   * @default none: customers connect anonymously, and a token is refused
   */
  readonly customerTokenSecretName?: string;
}

export class ChatRoutes extends Construct {
  readonly connect: AppFunction;
  readonly disconnect: AppFunction;
  readonly message: AppFunction;

  constructor(scope: Construct, id: string, props: ChatRoutesProps) {
    super(scope, id);
    const { desk, webSocketApi } = props;

    const { customerTokenSecretName } = props;
    if (
      customerTokenSecretName !== undefined &&
      !/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(customerTokenSecretName)
    ) {
      throw new Error(
        `ChatRoutes ${id}: customerTokenSecretName "${customerTokenSecretName}" is not a Secrets Manager secret name`,
      );
    }
    const { packageLayers } = desk;

    this.connect = new AppFunction(this, 'Connect', {
      handler: 'ws/connect',
      description: 'WebSocket $connect: registers the customer connection',
      packageLayers,
      environment: {
        ...desk.environment,
        // A name: GetSecretValue takes it as well as an ARN (whose random suffix is unknown here).
        ...(customerTokenSecretName ? { CUSTOMER_TOKEN_SECRET_ARN: customerTokenSecretName } : {}),
      },
    });
    desk.grant(this.connect, { tables: { connections: 'readWrite' } });
    if (customerTokenSecretName) {
      // Resource `…:secret:<name>-??????`: this secret only, whatever suffix Secrets Manager gave it.
      Secret.fromSecretNameV2(this, 'CustomerTokenSecret', customerTokenSecretName).grantRead(this.connect);
    }

    this.disconnect = new AppFunction(this, 'Disconnect', {
      handler: 'ws/disconnect',
      description: 'WebSocket $disconnect: forgets the connection, resolves bot-only conversations',
      packageLayers,
      environment: desk.environment,
    });
    desk.grant(this.disconnect, {
      tables: { connections: 'readWrite', conversations: 'readWrite' },
      publishesEvents: true,
    });

    this.message = new AppFunction(this, 'Message', {
      handler: 'ws/message',
      description: 'WebSocket frames: stores customer messages and starts the turn workflow',
      packageLayers,
      environment: { ...desk.environment, TURN_STATE_MACHINE_ARN: props.turnStateMachine.stateMachineArn },
    });
    desk.grant(this.message, {
      // cases: endConversation marks a waiting case abandoned.
      tables: {
        conversations: 'readWrite',
        messages: 'readWrite',
        connections: 'readWrite',
        cases: 'readWrite',
      },
      publishesEvents: true,
      notifiesClients: true,
    });
    props.turnStateMachine.grantStartExecution(this.message);
    // endConversation abandons a waiting case: its escalation wait ends.
    grantEndWait(this.message, props.escalationStateMachine.stateMachineArn);

    const routes: [string, string, AppFunction][] = [
      ['Connect', '$connect', this.connect],
      ['Disconnect', '$disconnect', this.disconnect],
    ];
    for (const key of MESSAGE_ROUTE_KEYS) {
      routes.push([
        key === '$default' ? 'Default' : key.charAt(0).toUpperCase() + key.slice(1),
        key,
        this.message,
      ]);
    }
    for (const [name, routeKey, handler] of routes) {
      const route = new WebSocketRoute(this, `${name}Route`, {
        webSocketApi,
        routeKey,
        integration: new WebSocketLambdaIntegration(`${name}Integration`, handler),
      });
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Customers chat anonymously from the public widget; the stage throttles every route and frames ' +
          'carry no privileges (operator actions go through the Cognito-authorized REST API).',
      });
    }
  }
}
