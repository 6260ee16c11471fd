/**
 * Short-lived tokens scoped to one study of one store, carried by webhook deliveries so an AI
 * service can read that study and store results into it, and nothing else (study-token.guard.ts
 * enforces the scope on the DICOMweb routes).
 *
 * A token is a JWT signed with HS256. Signing is done here with node:crypto so `issue` stays
 * synchronous; verification is jose's (`jwtVerify`, HS256 only, issuer and audience checked).
 * The secret is `events.tokenSecret` when configured, else 32 random bytes generated once and kept
 * in events.sqlite, so tokens already handed out survive a restart.
 */
import { Inject, Injectable, Optional } from '@nestjs/common';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import { GATEWAY_CONFIG } from '../../config/config.module';
import { GatewayConfig } from '../../config/gateway-config';
import { isValidUid } from '../../dicom/uid';
import { EventsDatabase } from '../events-database';
import { EVENTS_DB } from '../events-database.module';

export const STUDY_TOKEN_ISSUER = 'dicomweb-gateway';
export const STUDY_TOKEN_AUDIENCE = 'dicomweb-gateway-study';
export const STUDY_TOKEN_SCOPE = 'study.read study.write';

/** Optional clock (milliseconds since the epoch), for tests; Date.now otherwise. */
export const STUDY_TOKEN_CLOCK = Symbol('STUDY_TOKEN_CLOCK');

/** A token that is not a valid study token of this gateway; the message says why (safe to show). */
export class InvalidStudyToken extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidStudyToken';
  }
}

export interface IssuedStudyToken {
  token: string;
  /** ISO 8601, UTC. */
  expiresAt: string;
}

export interface VerifiedStudyToken {
  store: string;
  study: string;
  expiresAt: Date;
}

const TOKENS_MIGRATIONS = [
  {
    version: 1,
    description: 'signing secret of study tokens',
    sql: `CREATE TABLE study_token_secret (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      secret BLOB NOT NULL,
      created_at INTEGER NOT NULL)`,
  },
];

const STORE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

@Injectable()
export class StudyTokenService {
  private readonly secret: Uint8Array;
  private readonly now: () => number;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(EVENTS_DB) events: EventsDatabase,
    @Optional() @Inject(STUDY_TOKEN_CLOCK) clock?: () => number,
  ) {
    this.now = clock ?? Date.now;
    this.secret = config.events.tokenSecret !== undefined ? Buffer.from(config.events.tokenSecret, 'utf8') : storedSecret(events);
  }

  issue(store: string, studyInstanceUid: string): IssuedStudyToken {
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + this.config.events.tokenTtlSeconds;
    const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const payload = base64url(
      JSON.stringify({
        iss: STUDY_TOKEN_ISSUER,
        aud: STUDY_TOKEN_AUDIENCE,
        sub: `study:${store}:${studyInstanceUid}`,
        store,
        study: studyInstanceUid,
        scope: STUDY_TOKEN_SCOPE,
        iat,
        exp,
        jti: randomUUID(),
      }),
    );
    const signature = createHmac('sha256', this.secret).update(`${header}.${payload}`).digest('base64url');
    return { token: `${header}.${payload}.${signature}`, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** The token's store and study; InvalidStudyToken on a bad signature, expiry, wrong aud/iss or claims. */
  async verify(token: string): Promise<VerifiedStudyToken> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.secret, {
        algorithms: ['HS256'],
        issuer: STUDY_TOKEN_ISSUER,
        audience: STUDY_TOKEN_AUDIENCE,
        requiredClaims: ['exp', 'iat', 'sub'],
        currentDate: new Date(this.now()),
      }));
    } catch (e) {
      throw new InvalidStudyToken(reasonOf(e));
    }
    const { store, study, sub, scope, exp } = payload as Record<string, unknown>;
    if (typeof store !== 'string' || !STORE_NAME.test(store)) throw new InvalidStudyToken('not a study token: no valid "store" claim');
    if (typeof study !== 'string' || !isValidUid(study)) throw new InvalidStudyToken('not a study token: no valid "study" claim');
    if (sub !== `study:${store}:${study}`) throw new InvalidStudyToken('not a study token: "sub" does not name its store and study');
    const scopes = typeof scope === 'string' ? scope.split(' ') : [];
    if (!scopes.includes('study.read') || !scopes.includes('study.write')) throw new InvalidStudyToken('not a study token: wrong "scope"');
    return { store, study, expiresAt: new Date((exp as number) * 1000) };
  }
}

/** The generated secret, created by whichever process gets there first. */
function storedSecret(events: EventsDatabase): Uint8Array {
  events.migrate('tokens', TOKENS_MIGRATIONS);
  events.db.prepare('INSERT OR IGNORE INTO study_token_secret (id, secret, created_at) VALUES (1, ?, ?)').run(randomBytes(32), Date.now());
  const row = events.db.prepare('SELECT secret FROM study_token_secret WHERE id = 1').get() as { secret: Buffer };
  return new Uint8Array(row.secret);
}

function reasonOf(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'token expired';
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature does not verify';
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm not allowed (HS256 only)';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `token claim "${e.claim}" invalid: ${e.reason}`;
  if (e instanceof joseErrors.JOSEError) return 'malformed token';
  return 'token not verifiable';
}
