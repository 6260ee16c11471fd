import { afterEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns';
import { BadRequest } from '../../src/dicomweb/errors';
import { checkWebhookUrl, unsafeAddressKind, UnsafeWebhookUrl } from '../../src/events/subscriptions/ssrf-guard';

async function refused(url: string, reason: RegExp, allowPrivate = false): Promise<void> {
  await assert.rejects(checkWebhookUrl(url, allowPrivate), (e: unknown) => {
    assert.ok(e instanceof UnsafeWebhookUrl, `expected UnsafeWebhookUrl, got ${String(e)}`);
    assert.ok(e instanceof BadRequest, 'answered 400');
    assert.match(e.message, reason);
    return true;
  });
}

/** Makes every name resolve to these addresses (or fail with this code). */
function resolveTo(addresses: string[] | { code: string }): void {
  mock.method(dns.promises, 'lookup', async (host: string, options: { all?: boolean }) => {
    assert.equal(options.all, true, 'every address is looked at');
    if (!Array.isArray(addresses)) throw Object.assign(new Error(`getaddrinfo ${addresses.code} ${host}`), { code: addresses.code });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  });
}

afterEach(() => mock.restoreAll());

describe('unsafeAddressKind', () => {
  const cases: [string, RegExp | undefined][] = [
    // loopback
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['::1', /loopback/],
    // private
    ['10.0.0.1', /private/],
    ['10.255.255.255', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.10', /private/],
    ['fc00::1', /private/],
    ['fd12:3456:789a::1', /private/],
    // link-local and cloud metadata
    ['169.254.0.1', /link-local/],
    ['169.254.169.254', /link-local \(cloud metadata/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['febf::1', /link-local/],
    // unspecified
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /this network/],
    ['::', /unspecified/],
    // CGNAT
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.255', /carrier-grade NAT/],
    // multicast, broadcast, reserved
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['ff02::1', /multicast/],
    ['255.255.255.255', /broadcast/],
    ['240.0.0.1', /reserved/],
    // IPv4-mapped and other IPv6 forms of IPv4 addresses
    ['::ffff:127.0.0.1', /loopback \(IPv4-mapped\)/],
    ['::ffff:7f00:1', /loopback \(IPv4-mapped\)/],
    ['::ffff:10.1.2.3', /private \(IPv4-mapped\)/],
    ['::ffff:169.254.169.254', /metadata.*IPv4-mapped/],
    ['::ffff:0.0.0.0', /unspecified/],
    ['0:0:0:0:0:ffff:c0a8:0101', /private \(IPv4-mapped\)/],
    ['::127.0.0.1', /loopback \(IPv4-compatible\)/],
    ['::8.8.8.8', /IPv4-compatible/],
    ['64:ff9b::7f00:1', /loopback \(NAT64\)/],
    ['2002:a00:1::', /private \(6to4\)/],
    ['fec0::1', /site-local/],
    // public
    ['8.8.8.8', undefined],
    ['1.1.1.1', undefined],
    ['172.15.255.255', undefined],
    ['172.32.0.1', undefined],
    ['192.169.0.1', undefined],
    ['100.63.255.255', undefined],
    ['100.128.0.1', undefined],
    ['169.253.255.255', undefined],
    ['223.255.255.255', undefined],
    ['11.0.0.1', undefined],
    ['2001:4860:4860::8888', undefined],
    ['2606:4700:4700::1111', undefined],
    ['::ffff:8.8.8.8', undefined],
    ['64:ff9b::808:808', undefined],
    ['2002:808:808::1', undefined],
    ['fbff::1', undefined],
  ];
  for (const [address, kind] of cases) {
    test(`${address} -> ${kind ?? 'public'}`, () => {
      const got = unsafeAddressKind(address);
      if (kind === undefined) assert.equal(got, undefined);
      else assert.match(got ?? 'public', kind);
    });
  }

  test('not an IP address', () => {
    assert.equal(unsafeAddressKind('example.com'), 'invalid');
  });
});

describe('checkWebhookUrl: URL syntax', () => {
  test('only http and https', async () => {
    await refused('ftp://example.com/hook', /scheme "ftp" is not allowed/);
    await refused('file:///etc/passwd', /scheme "file" is not allowed/);
    await refused('gopher://example.com/', /scheme "gopher"/);
    await refused('javascript:alert(1)', /scheme "javascript"/);
    await refused('ftp://127.0.0.1/', /scheme/, true);
  });

  test('no credentials in the URL, even when private targets are allowed', async () => {
    await refused('https://user:pass@example.com/hook', /credentials/);
    await refused('https://user@example.com/hook', /credentials/);
    await refused('http://user:pass@127.0.0.1/hook', /credentials/, true);
  });

  test('not a URL', async () => {
    await refused('not a url', /not a valid absolute URL/);
    await refused('/relative/hook', /not a valid absolute URL/);
    await refused('', /expected an absolute http or https URL/);
    await refused(`https://example.com/${'a'.repeat(2100)}`, /longer than 2048/);
  });
});

describe('checkWebhookUrl: literal addresses', () => {
  const unsafe: [string, RegExp][] = [
    ['http://127.0.0.1:8080/hook', /host 127\.0\.0\.1 is a loopback address/],
    ['http://127.1/hook', /loopback/], // WHATWG URL normalises short and numeric IPv4 forms
    ['http://2130706433/hook', /loopback/],
    ['http://0x7f000001/hook', /loopback/],
    ['http://[::1]/hook', /host ::1 is a loopback address/],
    ['http://10.0.0.5/hook', /private/],
    ['http://172.20.1.1/hook', /private/],
    ['http://192.168.0.1/hook', /private/],
    ['http://[fd00::1]/hook', /private/],
    ['http://169.254.169.254/latest/meta-data/', /cloud metadata/],
    ['http://[fe80::1]/hook', /link-local/],
    ['http://0.0.0.0/hook', /unspecified/],
    ['http://[::]/hook', /unspecified/],
    ['http://100.64.1.1/hook', /carrier-grade NAT/],
    ['http://224.0.0.251/hook', /multicast/],
    ['http://[ff02::1]/hook', /multicast/],
    ['http://[::ffff:127.0.0.1]/hook', /loopback \(IPv4-mapped\)/],
    ['http://[::ffff:169.254.169.254]/hook', /cloud metadata/],
  ];
  for (const [url, reason] of unsafe) {
    test(`refuses ${url}`, async () => {
      resolveTo({ code: 'SHOULD_NOT_RESOLVE' });
      await refused(url, reason);
      assert.match(await refusalOf(url), /EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS/);
      await checkWebhookUrl(url, true); // allowed for tests and closed networks
    });
  }

  test('accepts public literal addresses without DNS', async () => {
    resolveTo({ code: 'SHOULD_NOT_RESOLVE' });
    await checkWebhookUrl('https://8.8.8.8/hook', false);
    await checkWebhookUrl('http://[2001:4860:4860::8888]:8080/hook', false);
  });
});

async function refusalOf(url: string): Promise<string> {
  try {
    await checkWebhookUrl(url, false);
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
}

describe('checkWebhookUrl: host names', () => {
  test('localhost (resolved for real) is loopback', async () => {
    await refused('http://localhost:3000/hook', /host "localhost" resolves to (127\.0\.0\.1|::1), a loopback address/);
    await checkWebhookUrl('http://localhost:3000/hook', true);
  });

  test('a name resolving to a public address is accepted', async () => {
    resolveTo(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']);
    await checkWebhookUrl('https://ai.example.com/hook', false);
  });

  test('a name resolving to a private address is refused, with the address and why', async () => {
    resolveTo(['10.1.2.3']);
    await refused('https://internal.example.com/hook', /host "internal\.example\.com" resolves to 10\.1\.2\.3, a private address/);
    resolveTo(['169.254.169.254']);
    await refused('https://metadata.example.com/hook', /cloud metadata/);
    resolveTo(['::ffff:127.0.0.1']);
    await refused('https://mapped.example.com/hook', /loopback \(IPv4-mapped\)/);
    resolveTo(['fe80::1']);
    await refused('https://ll.example.com/hook', /link-local/);
    resolveTo(['100.100.100.200']);
    await refused('https://cgnat.example.com/hook', /carrier-grade NAT/);
  });

  test('one unsafe address among public ones is enough to refuse', async () => {
    resolveTo(['93.184.215.14', '127.0.0.1']);
    await refused('https://rebind.example.com/hook', /resolves to 127\.0\.0\.1/);
  });

  test('allowPrivate lets private resolutions through', async () => {
    resolveTo(['192.168.1.20', '::1']);
    await checkWebhookUrl('https://ai.internal/hook', true);
  });

  test('a name that resolves to nothing is refused, even when private targets are allowed', async () => {
    resolveTo({ code: 'ENOTFOUND' });
    await refused('https://nothing.invalid/hook', /host "nothing\.invalid" could not be resolved \(ENOTFOUND\)/);
    await refused('https://nothing.invalid/hook', /could not be resolved/, true);
    resolveTo([]);
    await refused('https://empty.example.com/hook', /resolves to no address/);
  });
});
