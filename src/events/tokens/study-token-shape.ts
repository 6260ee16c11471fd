/**
 * Whether a bearer token claims to be a study token of this gateway (issuer and audience, read
 * without verifying): study tokens are StudyTokenGuard's to verify and confine; any other bearer
 * token is the authentication guard's (an identity provider's JWT, an API key).
 */
import { decodeJwt } from 'jose';
import { STUDY_TOKEN_AUDIENCE, STUDY_TOKEN_ISSUER } from './study-token.service';

export function isStudyTokenShaped(token: string): boolean {
  try {
    const claims = decodeJwt(token);
    const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    return claims.iss === STUDY_TOKEN_ISSUER && audience.includes(STUDY_TOKEN_AUDIENCE);
  } catch {
    return false;
  }
}
