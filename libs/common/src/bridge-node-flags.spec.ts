import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE_NODE_FLAGS } from './bridge-node-flags';

// The places that start the bridge outside TypeScript repeat the flags; this keeps them the same.
const ROOT = join(__dirname, '../../..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const asArgs = BRIDGE_NODE_FLAGS.map((f) => `"${f}"`).join(', ');
const asLine = BRIDGE_NODE_FLAGS.join(' ');

describe('BRIDGE_NODE_FLAGS', () => {
  it.each([
    [
      'package.json start:prod',
      () => JSON.parse(read('package.json')).scripts['start:prod'] as string,
      `node ${asLine} dist/apps/bridge/main.js`,
    ],
    [
      'Dockerfile CMD',
      () => /^CMD .*$/m.exec(read('Dockerfile'))?.[0] ?? '(no CMD)',
      `CMD ["node", ${asArgs}, "dist/apps/bridge/main.js"]`,
    ],
    [
      'docker-compose.yml bridge command',
      () => /command: \["node".*bridge\/main\.js"\]/.exec(read('docker-compose.yml'))?.[0] ?? '(no bridge command)',
      `command: ["node", ${asArgs}, "dist/apps/bridge/main.js"]`,
    ],
  ])('are the ones %s starts the bridge with', (_where, actual, expected) => {
    expect(actual()).toBe(expected);
  });

  it('are the ones docs/deployment.md names every time it shows the command', () => {
    const shown = read('docs/deployment.md').match(/node (?:--\S+ )*dist\/apps\/bridge\/main\.js/g) ?? [];
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.filter((c) => c !== `node ${asLine} dist/apps/bridge/main.js`)).toEqual([]);
  });
});
