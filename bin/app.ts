/** CDK entry point: validated configuration, the SupportMax stacks, cdk-nag (AWS Solutions rules). */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, configFromContext } from '../lib/config';
import { createSupportMaxStacks } from '../lib/supportMax';

const app = new App();
try {
  createSupportMaxStacks(
    app,
    configFromContext((key) => app.node.tryGetContext(key)),
  );
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
