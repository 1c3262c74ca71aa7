/**
 * Security services without HTTP: the audit log and the server secret.
 * @module
 */
export { AUDIT_KINDS, type AuditInput, AuditLog, canonicalJson, createAuditSeal } from './audit-log.js';
export { resolveServerSecret, SECRET_ENV, SECRET_FILE, type ServerSecretOptions, secretFilePath } from './secret.js';
