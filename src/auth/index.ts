/**
 * Authentication and authorisation without HTTP: principals, API keys, scopes.
 * @module
 */
export { API_KEY_PREFIX, digestsEqual, type GeneratedApiKey, generateApiKey, hashApiKey } from './api-keys.js';
export {
  type Authenticator,
  type AuthenticatorOptions,
  type AuthMode,
  bearerToken,
  createAuthenticator,
  type StaticApiKey,
} from './authenticator.js';
export {
  createJwtVerifier,
  JWT_CLOCK_TOLERANCE_S,
  type JwtAlgorithm,
  type JwtSettings,
  type JwtVerifier,
  type JwtVerifierOptions,
  looksLikeJwt,
  rolesFromClaims,
  scopesFromClaims,
} from './jwt.js';
export { isLoopbackHost } from './loopback.js';
export {
  ADMIN_SCOPE,
  callerSubjectOf,
  configuredKeyOf,
  type Principal,
  type PrincipalKind,
} from './principal.js';
export {
  coversScopes,
  expandRoles,
  formatRequirement,
  hasAnyScopeFor,
  hasScope,
  isRole,
  isValidScope,
  parseRequirement,
  ROLE_SCOPES,
  ROLES,
  type Role,
  type ScopeRequirement,
} from './scopes.js';
