export * from './binding-state';
export * from './capacity-gate';
export * from './poller.service';
export * from './poller.module';
