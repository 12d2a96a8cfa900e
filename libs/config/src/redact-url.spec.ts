import { redactUrl } from './redact-url';

describe('redactUrl', () => {
  it.each([
    ['redis://:secret@host:6379', 'redis://:***@host:6379'],
    ['redis://user:secret@host:6379/0', 'redis://user:***@host:6379/0'],
    ['rediss://secret@host', 'rediss://***@host'],
    ['redis://:p@ss@host', 'redis://:***@host'],
    ['redis://host:6379?password=secret&db=2', 'redis://host:6379?password=***&db=2'],
    ['redis:/user:secret@host', 'redis:***@host'],
  ])('hides the credentials of %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
    expect(redactUrl(url)).not.toMatch(/secret|p@ss/);
  });

  it('leaves a URL without credentials unchanged', () => {
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('http://localhost:8083/?x=1#a')).toBe('http://localhost:8083/?x=1#a');
  });
});
