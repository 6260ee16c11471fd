/**
 * Webhook signatures as in the Standard Webhooks specification
 * (https://www.standardwebhooks.com, "Signature scheme"):
 *   signed content = "${webhook-id}.${webhook-timestamp}.${body}"
 *   signature      = base64(HMAC-SHA256(key, signed content)), sent as "v1,<signature>"
 *   key            = base64-decode of the secret after its "whsec_" prefix
 * During a secret rotation the header carries one "v1,..." per secret, space-separated, and the
 * receiver accepts the message if any of them verifies with the secret it knows.
 * Pure functions: the worker signs with them, tests and tools verify with `verifyWebhook`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  'content-type': string;
};

/** The HMAC key of a secret: base64 after the optional "whsec_" prefix. */
export function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new Error('webhook secret: empty key');
  return key;
}

/** base64(HMAC-SHA256(key, "${id}.${timestamp}.${body}")). */
export function signatureOf(secret: string, id: string, timestamp: number, body: string): string {
  return createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64');
}

/** The webhook-signature header value: "v1,<sig>" per secret, space-separated. */
export function signWebhook(id: string, timestamp: number, body: string, secrets: string[]): string {
  if (secrets.length === 0) throw new Error('webhook signature: no secret');
  return secrets.map((s) => `v1,${signatureOf(s, id, timestamp, body)}`).join(' ');
}

/** Every header of one attempt; `timestamp` in unix seconds. */
export function webhookHeaders(id: string, timestamp: number, body: string, secrets: string[]): WebhookHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(id, timestamp, body, secrets),
    'content-type': 'application/json',
  };
}

export class WebhookVerificationError extends Error {}

export interface VerifyOptions {
  /** Accepted clock skew either way, seconds (the specification suggests 5 minutes). */
  toleranceSeconds?: number;
  /** Unix seconds; now by default. */
  now?: number;
}

/**
 * Verifies a received webhook against one or several secrets the receiver knows; returns the
 * parsed body, throws WebhookVerificationError otherwise. Header names are case-insensitive.
 */
export function verifyWebhook(
  headers: Record<string, string | string[] | undefined>,
  body: string,
  secrets: string | string[],
  options: VerifyOptions = {},
): unknown {
  const header = (name: string): string => {
    const entry = Object.entries(headers).find(([k]) => k.toLowerCase() === name);
    const value = Array.isArray(entry?.[1]) ? entry![1][0] : entry?.[1];
    if (typeof value !== 'string' || value === '') throw new WebhookVerificationError(`missing ${name} header`);
    return value;
  };
  const id = header('webhook-id');
  const timestampText = header('webhook-timestamp');
  const signatures = header('webhook-signature');
  if (!/^\d{1,12}$/.test(timestampText)) throw new WebhookVerificationError('invalid webhook-timestamp');
  const timestamp = Number(timestampText);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - timestamp) > tolerance) throw new WebhookVerificationError('webhook-timestamp outside the tolerance');
  const expected = (Array.isArray(secrets) ? secrets : [secrets]).map((s) => Buffer.from(signatureOf(s, id, timestamp, body), 'base64'));
  for (const part of signatures.split(' ')) {
    const [version, value] = part.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (expected.some((e) => e.length === given.length && timingSafeEqual(e, given))) {
      try {
        return JSON.parse(body);
      } catch {
        throw new WebhookVerificationError('body is not JSON');
      }
    }
  }
  throw new WebhookVerificationError('no matching signature');
}
