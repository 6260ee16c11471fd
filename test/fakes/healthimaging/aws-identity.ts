/**
 * The identities the fake knows: one allowed everything, one allowed nothing (a real, signed-in
 * principal whose policies deny every action), each with random temporary credentials unless the
 * test gives its own.
 */
import { randomBytes } from 'node:crypto';

export interface AwsTestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsIdentity {
  credentials: AwsTestCredentials;
  /** The principal as AWS names it in AccessDenied messages. */
  arn: string;
  allowed: boolean;
}

export const ACCOUNT_ID = '123456789012';

const ALPHANUMERIC_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomText(length: number, alphabet: string): string {
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** Temporary credentials as STS issues them: an ASIA... key id, a 40-character secret, a session token. */
export function randomTemporaryCredentials(): AwsTestCredentials {
  return {
    accessKeyId: `ASIA${randomText(16, ALPHANUMERIC_UPPER)}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(96).toString('base64')}`,
  };
}

export function identities(allowed: AwsTestCredentials, denied: AwsTestCredentials): AwsIdentity[] {
  return [
    { credentials: allowed, arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/gateway/test`, allowed: true },
    { credentials: denied, arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/denied/test`, allowed: false },
  ];
}
