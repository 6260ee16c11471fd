/**
 * A test identity provider: RSA and EC key pairs made with jose, their public halves served as a
 * JSON Web Key Set over HTTP (keys can be added and removed while it runs, as an IdP rotates them;
 * the fetches are counted), and tokens signed with them for any claims a test needs.
 */
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, JWK, JWTPayload, SignJWT } from 'jose';

type Alg = 'RS256' | 'ES256' | 'PS256';
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface SigningKey {
  kid: string;
  alg: Alg;
  privateKey: PrivateKey;
  jwk: JWK;
}

export interface TestIdp {
  issuer: string;
  jwksUrl: string;
  audience: string;
  /** Signs a token with the key of `kid` (default the first); claims default to a valid token. */
  sign(claims?: JWTPayload, options?: { kid?: string; key?: SigningKey; header?: Record<string, unknown> }): Promise<string>;
  /** A new key, served from now on. */
  addKey(alg?: Alg): Promise<SigningKey>;
  /** A key made but never served (a token signed with it must be refused). */
  strayKey(alg?: Alg, kid?: string): Promise<SigningKey>;
  removeKey(kid: string): void;
  keys(): SigningKey[];
  fetches(): number;
  setDown(down: boolean): void;
  close(): Promise<void>;
}

async function makeKey(alg: Alg, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

export async function startTestIdp(audience = 'dicomweb-gateway'): Promise<TestIdp> {
  const served: SigningKey[] = [await makeKey('RS256', 'rsa-1'), await makeKey('ES256', 'ec-1')];
  let fetches = 0;
  let down = false;
  let counter = 2;
  const server: Server = createServer((req, res) => {
    if (down) return req.socket.destroy();
    if (req.url === '/jwks') {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
      return res.end(JSON.stringify({ keys: served.map((k) => k.jwk) }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/realms/test`;
  return {
    issuer,
    jwksUrl: `${base}/jwks`,
    audience,
    async sign(claims = {}, options = {}) {
      const key = options.key ?? served.find((k) => k.kid === (options.kid ?? served[0].kid));
      if (!key) throw new Error(`no key ${options.kid}`);
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = { iss: issuer, aud: audience, sub: 'user-1', iat: now, exp: now + 300, ...claims };
      for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
      return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...(options.header ?? {}) }).sign(key.privateKey);
    },
    async addKey(alg = 'RS256') {
      const key = await makeKey(alg, `${alg.toLowerCase()}-${++counter}`);
      served.push(key);
      return key;
    },
    strayKey: (alg = 'RS256', kid = 'rsa-1') => makeKey(alg, kid),
    removeKey(kid) {
      const at = served.findIndex((k) => k.kid === kid);
      if (at >= 0) served.splice(at, 1);
    },
    keys: () => [...served],
    fetches: () => fetches,
    setDown(value) {
      down = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
