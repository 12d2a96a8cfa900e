import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { DynamicModule, Module } from '@nestjs/common';
import { BridgeConfig } from '@bridge/config';
import { bindingQueueNames } from '@bridge/queue';
import basicAuth from 'express-basic-auth';
import { BoardAccessWarning } from './board-access-warning';

/**
 * Bull Board on the bridge's own port: every binding queue (the tasks' jobs hold only their input;
 * tokens live in the task records, which the board does not show). Basic auth (express-basic-auth
 * compares in constant time) when BULL_BOARD_PASSWORD is set; without it every queue is read-only
 * (Bull Board's own `readOnlyMode`: actions answer 405) and a warning says so once at start-up.
 */
@Module({})
export class BoardModule {
  static forRoot(config: BridgeConfig): DynamicModule {
    if (!config.board.enabled) return { module: BoardModule };
    const { user, password, basePath } = config.board;
    const middleware = password ? basicAuth({ users: { [user]: password }, challenge: true, realm: 'sfn-bullmq-bridge' }) : undefined;
    return {
      module: BoardModule,
      imports: [
        BullBoardModule.forRoot({
          route: basePath,
          adapter: ExpressAdapter,
          middleware,
          boardOptions: { uiConfig: { boardTitle: 'sfn-bullmq-bridge' } },
        }),
        ...bindingQueueNames(config).map((name) =>
          BullBoardModule.forFeature({ name, adapter: BullMQAdapter, options: { readOnlyMode: !password } }),
        ),
      ],
      providers: password ? [] : [BoardAccessWarning],
    };
  }
}
