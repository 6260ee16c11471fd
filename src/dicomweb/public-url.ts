/**
 * The gateway's public base URL, used in every URL it hands out (Retrieve URL, BulkDataURI), so
 * clients never see an internal host. Order: the configured PUBLIC_BASE_URL; Forwarded /
 * X-Forwarded-* when the proxy is trusted; the request's Host header; the listening address.
 */
import type { FastifyRequest } from 'fastify';
import { GatewayConfig } from '../config/gateway-config';

const HOST_PATTERN = /^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function first(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.split(',')[0]?.trim() || undefined;
}

function fromForwarded(header: string | undefined): { proto?: string; host?: string } {
  if (!header) return {};
  const firstHop = header.split(',')[0];
  const out: { proto?: string; host?: string } = {};
  for (const pair of firstHop.split(';')) {
    const [k, v] = pair.split('=').map((s) => s?.trim());
    if (!k || !v) continue;
    const value = v.replace(/^"|"$/g, '');
    if (k.toLowerCase() === 'proto') out.proto = value;
    if (k.toLowerCase() === 'host') out.host = value;
  }
  return out;
}

/** Base URL of the server root (no trailing slash), e.g. "https://pacs.example.org". */
export function publicServerRoot(request: FastifyRequest, config: GatewayConfig): string {
  if (config.publicBaseUrl) return config.publicBaseUrl;
  const headers = request.headers;
  let proto = 'http';
  let host = first(headers.host);
  let prefix = '';
  if (config.trustProxy) {
    const fwd = fromForwarded(first(headers.forwarded));
    proto = fwd.proto ?? first(headers['x-forwarded-proto']) ?? proto;
    host = fwd.host ?? first(headers['x-forwarded-host']) ?? host;
    const p = first(headers['x-forwarded-prefix']);
    if (p && /^\/[A-Za-z0-9._~\-\/]*$/.test(p)) prefix = p.replace(/\/+$/, '');
  }
  if (proto !== 'http' && proto !== 'https') proto = 'http';
  if (!host || !HOST_PATTERN.test(host)) host = `${config.host}:${config.port}`;
  return `${proto}://${host}${prefix}`;
}
