export * from './incident-log';
