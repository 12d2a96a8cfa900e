import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';

/**
 * Says once at start-up that Bull Board is open to anyone who reaches the port but read-only:
 * without BULL_BOARD_PASSWORD no queue accepts retry, remove, clean, promote or any other action.
 */
@Injectable()
export class BoardAccessWarning implements OnApplicationBootstrap {
  private readonly logger = new Logger('BoardModule');

  onApplicationBootstrap(): void {
    this.logger.warn(
      'Bull Board is read-only: BULL_BOARD_PASSWORD is not set, so it asks no password and refuses every action ' +
        '(retry, remove, clean, promote, pause); set BULL_BOARD_PASSWORD to manage jobs from it',
    );
  }
}
