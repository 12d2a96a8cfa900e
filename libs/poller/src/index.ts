export * from './binding-state';
export * from './capacity-gate';
export * from './poller.service';
export * from './poller.module';
export * from './binding-capacity';
export * from './slot-reservations.service';
export * from './reservation.lua';
