export { ActionTokenVault, type ActionTokenVaultOptions, type ActionRequiredInfo } from './action-token-vault.js';
