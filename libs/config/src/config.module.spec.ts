import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigModule } from './config.module';
import { BRIDGE_CONFIG } from './config.tokens';
import type { BridgeConfig } from './config.types';
import { loadConfig } from './load-config';

const BINDINGS = 'bindings:\n  - activityArn: arn:aws:states:us-east-1:123456789012:activity:a\n    queue: q\n';

@Injectable()
class NeedsConfig {
  constructor(@Inject(BRIDGE_CONFIG) readonly config: BridgeConfig) {}
}

@Module({ providers: [NeedsConfig], exports: [NeedsConfig] })
class FeatureModule {}

describe('ConfigModule', () => {
  it('is a symbol token named BRIDGE_CONFIG', () => {
    expect(typeof BRIDGE_CONFIG).toBe('symbol');
    expect(BRIDGE_CONFIG.description).toBe('BRIDGE_CONFIG');
  });

  it('provides the given config globally to other modules', async () => {
    const config = loadConfig({ BRIDGE_BINDINGS: BINDINGS, PORT: '4321' });
    const moduleRef = await Test.createTestingModule({ imports: [ConfigModule.forRoot(config), FeatureModule] }).compile();
    expect(moduleRef.get(NeedsConfig).config).toBe(config);
  });

  it('loads the config from process.env when none is given', async () => {
    const saved = { ...process.env };
    process.env.BRIDGE_CONFIG = '';
    process.env.BRIDGE_BINDINGS = BINDINGS;
    process.env.PORT = '5678';
    try {
      const moduleRef = await Test.createTestingModule({ imports: [ConfigModule.forRoot(), FeatureModule] }).compile();
      expect(moduleRef.get(NeedsConfig).config.port).toBe(5678);
    } finally {
      process.env = saved;
    }
  });
});
