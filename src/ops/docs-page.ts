/**
 * The /docs page: every operation of the OpenAPI document (method, path, summary, the access it
 * needs), grouped by tag, and links to the raw document. Self-contained (inline style, no script,
 * nothing fetched from elsewhere: gateways often run offline), and every text from the document
 * is escaped, so a document edit can never inject markup.
 */
import { DocumentedOperation, OpenApiDocument } from './openapi-document';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** No script, no remote anything; the one inline style element is the page's own. */
export const DOCS_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
.intro { white-space: pre-wrap; background: #f6f8fa; padding: .8rem 1rem; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid #eaeef2; }
th { font-weight: 600; }
code { font: 13px ui-monospace, monospace; word-break: break-all; }
.method { font: 600 12px ui-monospace, monospace; padding: .1rem .35rem; border-radius: 4px; background: #ddf4ff; }
.method.POST { background: #dafbe1; } .method.PATCH { background: #fff8c5; } .method.DELETE { background: #ffebe9; }
.access { color: #57606a; white-space: nowrap; }
`;

function row(op: DocumentedOperation): string {
  return (
    `<tr><td><span class="method ${escapeHtml(op.method)}">${escapeHtml(op.method)}</span></td>` +
    `<td><code>${escapeHtml(op.path)}</code></td><td>${escapeHtml(op.summary)}</td>` +
    `<td class="access">${escapeHtml(op.access)}</td></tr>`
  );
}

/** Operations by their first tag, in the order the tags first appear; untagged ones last. */
function groups(operations: DocumentedOperation[]): [string, DocumentedOperation[]][] {
  const byTag = new Map<string, DocumentedOperation[]>();
  for (const op of operations) {
    const tag = op.tags[0] ?? 'Other';
    byTag.set(tag, [...(byTag.get(tag) ?? []), op]);
  }
  return [...byTag.entries()];
}

/** Links are relative (docs/openapi.yaml, seen from /docs) so the page also works behind a proxy prefix. */
export function renderDocsPage(doc: OpenApiDocument): string {
  const sections = groups(doc.operations)
    .map(
      ([tag, ops]) =>
        `<h2>${escapeHtml(tag)}</h2>\n<table><thead><tr><th>Method</th><th>Path</th><th>Summary</th><th>Needs</th></tr></thead><tbody>\n` +
        `${ops.map(row).join('\n')}\n</tbody></table>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.title)} API</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(doc.title)} <small>${escapeHtml(doc.version)}</small></h1>
<p>The OpenAPI document: <a href="docs/openapi.yaml">openapi.yaml</a> · <a href="docs/openapi.json">openapi.json</a>.
${doc.operations.length} operations. "Needs" names the scopes that would do (default prefix <code>dicomweb:</code>).</p>
<div class="intro">${escapeHtml(doc.description.trim())}</div>
${sections}
</body>
</html>
`;
}
