/**
 * Operator identities, stateful and retained: the Cognito user pool of support agents, supervisors and
 * admins who use the console and the /api routes. Customers chatting over the WebSocket need no account.
 */
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import {
  AccountRecovery,
  CfnUserPoolGroup,
  FeaturePlan,
  Mfa,
  StandardThreatProtectionMode,
  UserPool,
  type UserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';

/** Console roles, least to most privileged; handlers read them from the `cognito:groups` claim. */
export const OPERATOR_GROUPS = ['agent', 'supervisor', 'admin'] as const;

export class IdentityStack extends Stack {
  readonly userPool: UserPool;
  /** The operator console's app client (public SPA client: SRP sign-in, no secret). */
  readonly consoleClient: UserPoolClient;

  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    this.userPool = new UserPool(this, 'Operators', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // Operators see customer conversations: a second factor is mandatory (authenticator apps, no SMS role).
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    OPERATOR_GROUPS.forEach((group, precedence) => {
      new CfnUserPoolGroup(this, `${group}Group`, {
        userPoolId: this.userPool.userPoolId,
        groupName: group,
        precedence: OPERATOR_GROUPS.length - precedence,
        description: `SupportMax ${group}s`,
      });
    });
    this.consoleClient = this.userPool.addClient('ConsoleClient', {
      authFlows: { userSrp: true },
      generateSecret: false,
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
    });
  }
}
