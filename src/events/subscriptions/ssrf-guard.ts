/**
 * Webhook URLs are given by API clients, and the gateway POSTs to them from inside the network:
 * without a guard, a subscription could make the gateway reach its own admin endpoints, a database
 * on the private network or the cloud metadata service (169.254.169.254) and hand out credentials.
 *
 * `checkWebhookUrl` refuses, with a reason:
 * - any scheme other than http and https, and credentials in the URL (user:password@host);
 * - unless `allowPrivate` (events.allowPrivateWebhookTargets, for tests and closed networks), a
 *   host that is, or resolves to, an address that is not public: loopback, private, link-local,
 *   unspecified, CGNAT, multicast, reserved, and the same addresses written as IPv6 (IPv4-mapped
 *   ::ffff:a.b.c.d, IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16). A name is refused when
 *   ANY of its addresses is unsafe (one bad record is enough to be sent there);
 * - a host that resolves to nothing (checked whatever `allowPrivate` says).
 *
 * It is called when a subscription is created or its URL changed, and again by the delivery worker
 * before each send: a name that resolved to a public address at subscription time may resolve to
 * 127.0.0.1 later (DNS rebinding).
 */
import dns from 'node:dns';
import { isIP } from 'node:net';
import { BadRequest } from '../../dicomweb/errors';

export class UnsafeWebhookUrl extends BadRequest {}

/** Longest URL accepted (browsers and most servers stop around there anyway). */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** How long a name may take to resolve before the URL is refused. */
const LOOKUP_TIMEOUT_MS = 5_000;

const ALLOW_HINT = 'allowed only with EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS=true';

/**
 * The checks that need no DNS: a well-formed absolute http(s) URL of reasonable length, without
 * credentials and without a fragment. Returns the parsed URL; throws UnsafeWebhookUrl.
 */
export function parseWebhookUrl(url: unknown): URL {
  if (typeof url !== 'string' || url.trim() === '') throw new UnsafeWebhookUrl('url: expected an absolute http or https URL');
  if (url.length > MAX_WEBHOOK_URL_LENGTH) throw new UnsafeWebhookUrl(`url: longer than ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnsafeWebhookUrl('url: not a valid absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UnsafeWebhookUrl(`url: scheme "${parsed.protocol.replace(/:$/, '').slice(0, 20)}" is not allowed; use http or https`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new UnsafeWebhookUrl('url: must not contain credentials (user:password@); deliveries are authenticated by their signature');
  }
  if (parsed.hostname === '') throw new UnsafeWebhookUrl('url: has no host');
  return parsed;
}

export async function checkWebhookUrl(url: string, allowPrivate: boolean): Promise<void> {
  const parsed = parseWebhookUrl(url);
  // WHATWG URL already normalised literal IPv4 forms ("2130706433", "0x7f.1" -> "127.0.0.1") and
  // IPv6 ("[::ffff:127.0.0.1]" -> "[::ffff:7f00:1]"); IPv6 literals keep their brackets.
  const host = parsed.hostname.startsWith('[') && parsed.hostname.endsWith(']') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  if (isIP(host) !== 0) {
    if (!allowPrivate) refuseIfUnsafe(host, host);
    return;
  }
  const addresses = await resolve(host);
  if (addresses.length === 0) throw new UnsafeWebhookUrl(`url: host "${host}" resolves to no address`);
  if (!allowPrivate) for (const address of addresses) refuseIfUnsafe(host, address);
}

function refuseIfUnsafe(host: string, address: string): void {
  const kind = unsafeAddressKind(address);
  if (kind === undefined) return;
  const where = host === address ? `host ${address} is` : `host "${host}" resolves to ${address},`;
  throw new UnsafeWebhookUrl(`url: ${where} a ${kind} address; webhook targets must be public (${ALLOW_HINT})`);
}

async function resolve(host: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UnsafeWebhookUrl(`url: host "${host}" could not be resolved within ${LOOKUP_TIMEOUT_MS / 1000} s`)), LOOKUP_TIMEOUT_MS);
  });
  try {
    const found = await Promise.race([dns.promises.lookup(host, { all: true, verbatim: true }), timeout]);
    return found.map((a) => a.address);
  } catch (e) {
    if (e instanceof UnsafeWebhookUrl) throw e;
    const code = (e as NodeJS.ErrnoException)?.code;
    throw new UnsafeWebhookUrl(`url: host "${host}" could not be resolved${code ? ` (${code})` : ''}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Why an IP address (IPv4 or IPv6 text) is not a public one ("loopback", "private", ...), or
 * undefined when it is public. Text that is not an IP address is "invalid". Exported for the
 * delivery worker, which may check the address it actually connects to.
 */
export function unsafeAddressKind(address: string): string | undefined {
  const plain = address.replace(/%.*$/, ''); // zone index: fe80::1%eth0
  const version = isIP(plain);
  if (version === 4) return ipv4Kind(parseIpv4(plain));
  if (version === 6) return ipv6Kind(parseIpv6(plain));
  return 'invalid';
}

/** [base, prefix length, kind], IPv4. */
const IPV4_RANGES: [string, number, string][] = [
  ['0.0.0.0', 32, 'unspecified'],
  ['0.0.0.0', 8, '"this network" (0.0.0.0/8)'],
  ['127.0.0.0', 8, 'loopback'],
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['169.254.169.254', 32, 'link-local (cloud metadata service)'],
  ['169.254.0.0', 16, 'link-local'],
  ['100.64.0.0', 10, 'carrier-grade NAT (100.64.0.0/10)'],
  ['192.0.0.0', 24, 'IETF protocol assignment (192.0.0.0/24)'],
  ['198.18.0.0', 15, 'benchmarking (198.18.0.0/15)'],
  ['224.0.0.0', 4, 'multicast'],
  ['255.255.255.255', 32, 'broadcast'],
  ['240.0.0.0', 4, 'reserved (240.0.0.0/4)'],
];

const IPV4_TABLE = IPV4_RANGES.map(([base, bits, kind]) => ({ base: parseIpv4(base), mask: bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0, kind }));

function ipv4Kind(ip: number): string | undefined {
  for (const range of IPV4_TABLE) if (((ip & range.mask) >>> 0) === range.base) return range.kind;
  return undefined;
}

function parseIpv4(text: string): number {
  return text.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

/** Eight 16-bit groups; `text` is a valid IPv6 address (isIP said so), possibly with a dotted tail. */
function parseIpv6(text: string): number[] {
  let s = text.toLowerCase();
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const v4 = parseIpv4(dotted[1]);
    tail.push(v4 >>> 16, v4 & 0xffff);
    s = s.slice(0, -dotted[1].length);
    if (!s.endsWith('::')) s = s.slice(0, -1); // "::ffff:" -> "::ffff"; "::" stays
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, undefined];
  const groups = (part: string | undefined) => (part ? part.split(':').filter((g) => g !== '').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = [...groups(rest), ...tail];
  if (rest === undefined) return [...left, ...right];
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function ipv6Kind(g: number[]): string | undefined {
  const embedded = (hi: number, lo: number) => ((g[hi] << 16) | g[lo]) >>> 0;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 8)) return 'unspecified';
  if (zeros(0, 7) && g[7] === 1) return 'loopback';
  // IPv4-mapped ::ffff:a.b.c.d: the socket reaches the IPv4 address.
  if (zeros(0, 5) && g[5] === 0xffff) return mapped(ipv4Kind(embedded(6, 7)), 'IPv4-mapped');
  // IPv4-compatible ::a.b.c.d (deprecated; some stacks still route it as IPv4).
  if (zeros(0, 6)) return mapped(ipv4Kind(embedded(6, 7)), 'IPv4-compatible') ?? 'deprecated IPv4-compatible (::a.b.c.d)';
  // NAT64 64:ff9b::/96 and 6to4 2002::/16 embed an IPv4 address a gateway will reach.
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return mapped(ipv4Kind(embedded(6, 7)), 'NAT64');
  if (g[0] === 0x2002) return mapped(ipv4Kind(embedded(1, 2)), '6to4');
  if ((g[0] & 0xfe00) === 0xfc00) return 'private (unique local fc00::/7)';
  if ((g[0] & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0] & 0xffc0) === 0xfec0) return 'site-local (deprecated, fec0::/10)';
  if ((g[0] & 0xff00) === 0xff00) return 'multicast';
  return undefined;
}

function mapped(kind: string | undefined, form: string): string | undefined {
  return kind === undefined ? undefined : `${kind} (${form})`;
}
