/**
 * The service accounts the fake knows, each with one or more RSA-2048 keys, as Google's IAM holds
 * them: a key file (the JSON the console hands out) carries the private key, the fake keeps only
 * the public half to verify assertions. An account is either allowed on the DICOM store (role
 * healthcare.dicomEditor: DICOMweb read and write) or `denied` (a valid identity with no role).
 * Deleting a key leaves the account; its tokens and new assertions signed with it stop working.
 */
import { KeyObject, createPublicKey, generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';

export interface ServiceAccountKey {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  /** PEM, PKCS#8 ("-----BEGIN PRIVATE KEY-----"). */
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
  auth_provider_x509_cert_url: string;
  client_x509_cert_url: string;
  universe_domain: 'googleapis.com';
}

export interface ServiceAccount {
  email: string;
  clientId: string;
  /** false: no permission on the store (403 on every DICOMweb call). */
  allowed: boolean;
  /** private_key_id -> public key, live keys only. */
  keys: Map<string, KeyObject>;
}

/** What the real key files say: the token endpoint gtoken hard-codes, not the fake's (gtoken ignores token_uri). */
const TOKEN_URI = 'https://oauth2.googleapis.com/token';

export class ServiceAccounts {
  private readonly accounts = new Map<string, ServiceAccount>();
  private readonly keyOwner = new Map<string, string>();
  private counter = 0;

  constructor(private readonly project: string) {}

  create(options: { email?: string; denied?: boolean } = {}): ServiceAccountKey {
    const email = options.email ?? `fake-sa-${++this.counter}-${randomBytes(3).toString('hex')}@${this.project}.iam.gserviceaccount.com`;
    let account = this.accounts.get(email);
    if (account && options.denied !== undefined && account.allowed === options.denied) {
      throw new Error(`gcp fake: service account ${email} exists and is ${account.allowed ? 'allowed' : 'denied'}; a new key cannot change that`);
    }
    if (!account) {
      account = { email, clientId: String(randomInt(1e9, 1e10 - 1)) + String(randomInt(1e10, 1e11 - 1)), allowed: !options.denied, keys: new Map() };
      this.accounts.set(email, account);
    }
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const keyId = randomBytes(20).toString('hex');
    account.keys.set(keyId, createPublicKey(publicKey));
    this.keyOwner.set(keyId, email);
    return {
      type: 'service_account',
      project_id: this.project,
      private_key_id: keyId,
      private_key: privateKey,
      client_email: email,
      client_id: account.clientId,
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: TOKEN_URI,
      auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
      client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
      universe_domain: 'googleapis.com',
    };
  }

  /** Forgets a key; unknown ids are an error in the test, not a no-op. */
  deleteKey(keyId: string): void {
    const email = this.keyOwner.get(keyId);
    if (email === undefined) throw new Error(`gcp fake: no live key ${keyId}`);
    this.keyOwner.delete(keyId);
    this.accounts.get(email)?.keys.delete(keyId);
  }

  account(email: string): ServiceAccount | undefined {
    return this.accounts.get(email);
  }

  isLiveKey(keyId: string): boolean {
    return this.keyOwner.has(keyId);
  }
}
