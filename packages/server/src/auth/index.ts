export type { Principal, Authenticate } from './principal.js';
export { trustHeaderAuth, type TrustHeaderAuthOptions } from './trust-header-auth.js';
