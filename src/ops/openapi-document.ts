/**
 * The gateway's OpenAPI document (openapi/openapi.yaml), read and checked once at start so that a
 * missing or broken file stops the start with a reason instead of surfacing as a 500 of /docs
 * later. Also the list of its operations with the access each needs, for the /docs page.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';

/** dist/src/ops -> the repository (or image) root, where openapi/ sits next to dist/. */
export const OPENAPI_DOCUMENT_PATH = resolve(__dirname, '../../../openapi/openapi.yaml');

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface DocumentedOperation {
  method: string; // upper case
  path: string; // as in the document: /dicomweb/studies/{study}
  summary: string;
  tags: string[];
  /** For people: "public", "any valid credential", or the scopes that would do, joined by "or". */
  access: string;
}

export interface OpenApiDocument {
  /** The file as written (comments and anchors kept). */
  yaml: string;
  /** The same document as JSON (aliases expanded). */
  json: string;
  title: string;
  version: string;
  description: string;
  operations: DocumentedOperation[];
}

export class OpenApiDocumentInvalid extends Error {
  constructor(path: string, reason: string) {
    super(`OpenAPI document ${path}: ${reason} (it is served at /docs; the image must hold openapi/ next to dist/)`);
    this.name = 'OpenApiDocumentInvalid';
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function loadOpenApiDocument(path: string = OPENAPI_DOCUMENT_PATH): OpenApiDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OpenApiDocumentInvalid(path, code === 'ENOENT' ? 'missing' : `cannot be read (${code ?? (e as Error).message})`);
  }
  return parseOpenApiDocument(text, path);
}

/** Parses and checks the document's text; `path` only names it in errors. */
export function parseOpenApiDocument(text: string, path: string): OpenApiDocument {
  const parsed = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  // The first line names the problem and its line and column; the rest is a drawing of the spot.
  if (parsed.errors.length > 0) throw new OpenApiDocumentInvalid(path, `not valid YAML: ${parsed.errors[0].message.split('\n')[0]}`);
  let doc: unknown;
  try {
    doc = parsed.toJS();
  } catch (e) {
    throw new OpenApiDocumentInvalid(path, `not valid YAML: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new OpenApiDocumentInvalid(path, 'not a YAML mapping');
  if (typeof doc.openapi !== 'string' || !/^3\.[01]\.\d+$/.test(doc.openapi)) throw new OpenApiDocumentInvalid(path, '"openapi" must be 3.0.x or 3.1.x');
  const info = doc.info;
  if (!isObject(info) || typeof info.title !== 'string' || typeof info.version !== 'string') throw new OpenApiDocumentInvalid(path, '"info" needs a title and a version');
  if (!isObject(doc.paths)) throw new OpenApiDocumentInvalid(path, '"paths" is missing');
  return {
    yaml: text,
    json: JSON.stringify(doc),
    title: info.title,
    version: info.version,
    description: typeof info.description === 'string' ? info.description : '',
    operations: operationsOf(doc, path),
  };
}

function operationsOf(doc: Json, file: string): DocumentedOperation[] {
  const out: DocumentedOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    if (!isObject(item)) throw new OpenApiDocumentInvalid(file, `paths["${path}"] is not a Path Item`);
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      if (!isObject(operation)) throw new OpenApiDocumentInvalid(file, `${method.toUpperCase()} ${path} is not an Operation`);
      if (typeof operation.summary !== 'string' || operation.summary.trim() === '') {
        throw new OpenApiDocumentInvalid(file, `${method.toUpperCase()} ${path} has no summary`);
      }
      if (!isObject(operation.responses) || Object.keys(operation.responses).length === 0) {
        throw new OpenApiDocumentInvalid(file, `${method.toUpperCase()} ${path} has no responses`);
      }
      out.push({
        method: method.toUpperCase(),
        path,
        summary: operation.summary,
        tags: Array.isArray(operation.tags) ? operation.tags.filter((t): t is string => typeof t === 'string') : [],
        access: accessOf(operation.security ?? doc.security),
      });
    }
  }
  return out;
}

/** A Security Requirement list, said for people. */
export function accessOf(security: unknown): string {
  if (!Array.isArray(security) || security.length === 0) return 'public';
  let anonymous = false;
  let anyCredential = false;
  const scopes: string[] = [];
  for (const requirement of security) {
    if (!isObject(requirement)) continue;
    const schemes = Object.values(requirement);
    if (schemes.length === 0) anonymous = true;
    for (const list of schemes) {
      if (!Array.isArray(list) || list.length === 0) anyCredential = true;
      else {
        const all = list.map(String).join(' and ');
        if (!scopes.includes(all)) scopes.push(all);
      }
    }
  }
  const needed = scopes.length > 0 ? scopes.join(' or ') : anyCredential ? 'any valid credential' : 'public';
  return anonymous && needed !== 'public' ? `public (configurable: ${needed})` : needed;
}
