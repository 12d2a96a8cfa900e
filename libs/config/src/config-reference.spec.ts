import * as fs from 'fs';
import { ENV_KEYS } from './env.schema';
import { README_PATHS, REFERENCE_END, REFERENCE_START, renderConfigReference, updateReadme } from './render-config-reference';

describe.each(README_PATHS)('config reference in %s', (file) => {
  const readme = fs.readFileSync(file, 'utf8');

  it('matches the schemas (regenerate: npx tsx libs/config/src/render-config-reference.ts --write)', () => {
    expect(readme).toContain(renderConfigReference());
    expect(updateReadme(readme)).toBe(readme);
  });

  it('documents every env variable with its default', () => {
    const table = renderConfigReference();
    for (const key of ENV_KEYS) expect(table).toMatch(new RegExp(`^\\| \`${key}\` \\| [^|]+ \\|`, 'm'));
    expect(table).toContain('| `PORT` | `3000` |');
    expect(table).toContain('| `REDIS_URL` | `redis://127.0.0.1:6379` |');
    expect(table).toContain('| `pollers` | `4` |');
    expect(table).toContain('| `activityArn` | **required** |');
  });

  it('has its markers exactly once', () => {
    expect(readme.split(REFERENCE_START)).toHaveLength(2);
    expect(readme.split(REFERENCE_END)).toHaveLength(2);
  });
});
