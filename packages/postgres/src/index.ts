export { PostgresActionStore } from './stores/postgres-action-store.js';
