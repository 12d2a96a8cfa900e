import { parseArgs } from 'node:util';
import { startSfnLocal } from './sfn-local';

const HELP = `Usage: sfn-local [--port 8083] [--host 127.0.0.1] [--poll-seconds 60] [--region us-east-1] [--account-id 123456789012] [--quiet]
Env fallbacks: PORT, HOST, SFN_LOCAL_POLL_SECONDS, AWS_REGION, SFN_LOCAL_ACCOUNT_ID.`;

function num(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`sfn-local: --${name} must be a non-negative number, got '${v}'\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'poll-seconds': { type: 'string' },
      region: { type: 'string' },
      'account-id': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const env = process.env;
  const local = await startSfnLocal({
    port: num('port', values.port ?? env.PORT, 8083),
    host: values.host ?? env.HOST ?? '127.0.0.1',
    pollSeconds: num('poll-seconds', values['poll-seconds'] ?? env.SFN_LOCAL_POLL_SECONDS, 60),
    region: values.region ?? env.AWS_REGION ?? 'us-east-1',
    accountId: values['account-id'] ?? env.SFN_LOCAL_ACCOUNT_ID ?? '123456789012',
    quiet: values.quiet ?? false,
  });
  process.stdout.write(`sfn-local listening on ${local.url}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    local.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: Error) => {
  process.stderr.write(`sfn-local: ${e.message}\n`);
  process.exit(1);
});
