/**
 * The e-mail channel on AWS: its fixed names (so every stack builds the ARNs it needs without references),
 * the KMS-encrypted bucket SES stores inbound mail in (Data stack), and SES sending access for the handlers
 * that reply (SupportDeskWiring `sendsEmail`). Receiving (identity, rules) is the Email stack; intake is the
 * EmailIntake construct of the Workflow stack.
 */
import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Grant, type IGrantable, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import type { IReceiptRuleAction, ReceiptRuleActionConfig } from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';

/** Where SES puts raw inbound mail in the mail bucket (S3 notifications start intake from here). */
export const INBOUND_MAIL_PREFIX = 'inbound/';

/** Sending and receiving SES resources are named, not referenced: stacks share plain strings. */
export interface EmailChannelSettings {
  /** The SES domain identity (DKIM) replies are sent from. */
  readonly domain: string;
  /** The address customers write to and replies come from; an address of `domain`. */
  readonly supportAddress: string;
  /** Display name of the replies. @default the runtime's ('SupportMax') */
  readonly senderName?: string;
  /** Configuration set of every reply: suppression of bounces and complaints, metrics. */
  readonly configurationSetName: string;
  readonly receiptRuleSetName: string;
  readonly receiptRuleName: string;
  /** Bucket SES stores inbound mail in, under inbound/. */
  readonly mailBucketName: string;
  /** Days raw inbound mail is kept. */
  readonly inboundRetentionDays: number;
}

/** Refuses names SES or S3 would refuse, and an address outside the domain. */
export function validateEmailChannel(settings: EmailChannelSettings, where: string): void {
  const { domain, supportAddress } = settings;
  if (!/^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain)) {
    throw new Error(`${where}: email domain "${domain}" is not a domain name`);
  }
  if (!/^[^\s@]+@[^\s@]+$/.test(supportAddress) || !supportAddress.endsWith(`@${domain}`)) {
    throw new Error(`${where}: supportAddress "${supportAddress}" must be an address of ${domain}`);
  }
  for (const name of [settings.configurationSetName, settings.receiptRuleSetName, settings.receiptRuleName]) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      throw new Error(`${where}: SES name "${name}" must be 1-64 letters, digits, _ or -`);
    }
  }
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(settings.mailBucketName)) {
    throw new Error(`${where}: mailBucketName "${settings.mailBucketName}" is not a valid S3 bucket name`);
  }
  if (!(Number.isInteger(settings.inboundRetentionDays) && settings.inboundRetentionDays >= 1)) {
    throw new Error(`${where}: inboundRetentionDays must be a positive integer`);
  }
}

/** ARN of the receipt rule that stores mail in the bucket (SES names it as aws:SourceArn when it writes). */
export function receiptRuleArn(scope: Construct, settings: EmailChannelSettings): string {
  return Stack.of(scope).formatArn({
    service: 'ses',
    resource: 'receipt-rule-set',
    resourceName: `${settings.receiptRuleSetName}:receipt-rule/${settings.receiptRuleName}`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** The SES resources a reply is authorised against: the sending identity (domain or address) and config set. */
export function sendingArns(scope: Construct, settings: EmailChannelSettings): string[] {
  const stack = Stack.of(scope);
  const arn = (resource: string, resourceName: string) =>
    stack.formatArn({ service: 'ses', resource, resourceName });
  return [
    arn('identity', settings.domain),
    // Used instead of the domain if the address is ever verified as an identity of its own.
    arn('identity', settings.supportAddress),
    arn('configuration-set', settings.configurationSetName),
  ];
}

/** Lets `grantee` send replies as the support address: SendEmail/SendRawEmail on the identity and config set. */
export function grantSendEmail(grantee: IGrantable, settings: EmailChannelSettings): Grant {
  const principal = grantee.grantPrincipal;
  if (!(principal instanceof Construct)) {
    throw new Error('grantSendEmail: the grantee must have a role defined in this app');
  }
  return Grant.addToPrincipal({
    grantee,
    actions: ['ses:SendEmail', 'ses:SendRawEmail'],
    resourceArns: sendingArns(principal, settings),
  });
}

/** What the runtime's e-mail channel reads (runtime.ts `emailChannel()`), besides the threads table. */
export function emailSendingEnvironment(settings: EmailChannelSettings): Record<string, string> {
  return {
    SUPPORT_EMAIL_ADDRESS: settings.supportAddress,
    SES_CONFIGURATION_SET: settings.configurationSetName,
    ...(settings.senderName ? { SUPPORT_EMAIL_NAME: settings.senderName } : {}),
  };
}

/** The S3 action of the receipt rule: raw mail under inbound/, encrypted by the bucket's default (SSE-KMS). */
export function storeInMailBucket(settings: EmailChannelSettings): IReceiptRuleAction {
  return {
    bind: (): ReceiptRuleActionConfig => ({
      // No kmsKeyArn: that would be SES client-side encryption, unreadable by a plain GetObject.
      s3Action: { bucketName: settings.mailBucketName, objectKeyPrefix: INBOUND_MAIL_PREFIX },
    }),
  };
}

export interface InboundMailBucketProps {
  readonly settings: EmailChannelSettings;
  /** Encrypts the mail (SSE-KMS with a bucket key); SES is allowed to use it for this bucket only. */
  readonly encryptionKey: IKey;
  /** Receives the bucket's server access logs (under mail/). */
  readonly accessLogsBucket: IBucket;
}

/** The bucket SES's receipt rule writes raw mail to; only that rule of this account may write. */
export class InboundMailBucket extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: InboundMailBucketProps) {
    super(scope, id);
    const { settings } = props;
    validateEmailChannel(settings, `InboundMailBucket ${id}`);
    this.bucket = new Bucket(this, 'Bucket', {
      bucketName: settings.mailBucketName,
      encryption: BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'mail/',
      // Intake reads a mail within minutes; the copy is kept for investigations, then expires.
      lifecycleRules: [{ expiration: Duration.days(settings.inboundRetentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const ruleArn = receiptRuleArn(this, settings);
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'SesStoresInboundMail',
        principals: [new ServicePrincipal('ses.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${INBOUND_MAIL_PREFIX}*`)],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID, 'aws:SourceArn': ruleArn } },
      }),
    );
    // SES writes as a service principal: S3 encrypts with the bucket's key on its behalf, so the key policy
    // must allow it, for objects of this bucket (with a bucket key the context is the bucket ARN) only. The
    // ARN is built from the name: a reference would make key and bucket depend on each other.
    const bucketArn = `arn:${Aws.PARTITION}:s3:::${settings.mailBucketName}`;
    props.encryptionKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'SesEncryptsInboundMail',
        principals: [new ServicePrincipal('ses.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` },
          StringLike: {
            'kms:EncryptionContext:aws:s3:arn': [bucketArn, `${bucketArn}/*`],
          },
        },
      }),
    );
  }
}
