export * from './board.module';
export * from './relay-queue.adapter';
