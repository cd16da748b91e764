/**
 * `npm run customer-token -- <customerId> [--minutes 60] [--email a@b.c] [--name "Ana"]`: signs a customer
 * token the way a company's backend would, with CUSTOMER_TOKEN_SECRET or the local face's generated
 * DATA_DIR/customer-token-secret, and prints it with a chat URL that connects as that customer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { signCustomerToken } from '#core/customerToken';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    minutes: { type: 'string', default: '60' },
    email: { type: 'string' },
    name: { type: 'string' },
  },
});
const customerId = positionals[0];
const minutes = Number(values.minutes);
if (!customerId || !(minutes > 0)) {
  console.error('usage: npm run customer-token -- <customerId> [--minutes 60] [--email …] [--name …]');
  process.exit(2);
}
const dataDir = process.env.DATA_DIR || '.supportmax';
let secret = process.env.CUSTOMER_TOKEN_SECRET;
try {
  secret ||= readFileSync(join(dataDir, 'customer-token-secret'), 'utf8').trim();
} catch {
  console.error(
    `no CUSTOMER_TOKEN_SECRET and no ${join(dataDir, 'customer-token-secret')}: run npm start once`,
  );
  process.exit(1);
}
const token = signCustomerToken(
  {
    sub: customerId,
    exp: Math.floor(Date.now() / 1000) + Math.round(minutes * 60),
    ...(values.email ? { email: values.email } : {}),
    ...(values.name ? { name: values.name } : {}),
  },
  secret,
);
console.log(token);
console.log(`chat as ${customerId}: http://localhost:${process.env.PORT || 3000}/?token=${token}`);
