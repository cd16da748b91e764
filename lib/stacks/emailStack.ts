/**
 * The SES side of the e-mail channel, long-lived and created only when `email` is configured: the domain
 * identity (Easy DKIM) replies are sent from, the configuration set every reply uses (bounces and complaints
 * go on the account's suppression list and are counted in CloudWatch), and the receipt rule set that
 * virus/spam-scans mail to the support address, requires TLS and stores it in the Data stack's mail bucket.
 *
 * The rule set is not activated here: only one rule set per region can be active, so activating is an
 * explicit account-level step (`aws ses set-active-receipt-rule-set`, output below; see README, Deploy).
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import {
  CloudWatchDimensionSource,
  ConfigurationSet,
  ConfigurationSetTlsPolicy,
  EmailIdentity,
  EmailSendingEvent,
  EventDestination,
  Identity,
  ReceiptRuleSet,
  SuppressionReasons,
  TlsPolicy,
} from 'aws-cdk-lib/aws-ses';
import type { Construct } from 'constructs';
import {
  type EmailChannelSettings,
  storeInMailBucket,
  validateEmailChannel,
} from '../constructs/emailChannel';

/** SES sending events counted per configuration set (metric names Send, Delivery, Bounce, Complaint, Reject). */
export const EMAIL_METRIC_EVENTS = [
  EmailSendingEvent.SEND,
  EmailSendingEvent.DELIVERY,
  EmailSendingEvent.BOUNCE,
  EmailSendingEvent.COMPLAINT,
  EmailSendingEvent.REJECT,
];

export interface EmailStackProps extends StackProps {
  readonly email: EmailChannelSettings;
}

export class EmailStack extends Stack {
  readonly identity: EmailIdentity;
  readonly configurationSet: ConfigurationSet;
  readonly receiptRuleSet: ReceiptRuleSet;

  constructor(scope: Construct, id: string, props: EmailStackProps) {
    super(scope, id, props);
    const { email } = props;
    validateEmailChannel(email, `EmailStack ${id}`);

    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {
      configurationSetName: email.configurationSetName,
      // Addresses that bounced or complained are not mailed again (account-level suppression list).
      suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      tlsPolicy: ConfigurationSetTlsPolicy.REQUIRE,
      reputationMetrics: true,
    });
    this.configurationSet.addEventDestination('Metrics', {
      destination: EventDestination.cloudWatchDimensions([
        {
          name: 'ConfigurationSet',
          source: CloudWatchDimensionSource.MESSAGE_TAG,
          defaultValue: email.configurationSetName,
        },
      ]),
      events: EMAIL_METRIC_EVENTS,
    });

    this.identity = new EmailIdentity(this, 'DomainIdentity', {
      identity: Identity.domain(email.domain),
      // Mail sent from the domain uses the set even when a caller names none.
      configurationSet: this.configurationSet,
      dkimSigning: true,
    });

    this.receiptRuleSet = new ReceiptRuleSet(this, 'InboundRules', {
      receiptRuleSetName: email.receiptRuleSetName,
    });
    this.receiptRuleSet.addRule('SupportAddress', {
      receiptRuleName: email.receiptRuleName,
      recipients: [email.supportAddress],
      enabled: true,
      // Verdicts land in the X-SES-Spam-Verdict / X-SES-Virus-Verdict headers, which intake acts on.
      scanEnabled: true,
      tlsPolicy: TlsPolicy.REQUIRE,
      actions: [storeInMailBucket(email)],
    });

    this.identity.dkimRecords.forEach((record, index) => {
      new CfnOutput(this, `DkimRecord${index + 1}`, {
        value: `${record.name} CNAME ${record.value}`,
        description: 'Publish in DNS so SES verifies the domain and signs replies with DKIM',
      });
    });
    new CfnOutput(this, 'MxRecord', {
      value: `${email.domain} MX 10 inbound-smtp.${this.region}.amazonaws.com`,
      description: 'Publish in DNS so mail to the support address reaches SES receiving in this region',
    });
    new CfnOutput(this, 'ActivateReceiptRules', {
      value: `aws ses set-active-receipt-rule-set --rule-set-name ${email.receiptRuleSetName} --region ${this.region}`,
      description: 'Run once after the first deploy: SES receives with the active rule set only',
    });
  }
}
