/**
 * GET /docs (a page listing every operation), /docs/openapi.yaml and /docs/openapi.json: the
 * OpenAPI document of every route, public (route-access.ts). The document is read and checked
 * when the controller is built, so a missing or broken file fails the start with its reason.
 */
import { Controller, Get, Header } from '@nestjs/common';
import { DOCS_PAGE_CSP, renderDocsPage } from './docs-page';
import { loadOpenApiDocument, OpenApiDocument } from './openapi-document';

@Controller('docs')
export class DocsController {
  private readonly document: OpenApiDocument = loadOpenApiDocument();
  private readonly page = renderDocsPage(this.document);

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', DOCS_PAGE_CSP)
  @Header('x-content-type-options', 'nosniff')
  html(): string {
    return this.page;
  }

  @Get('openapi.yaml')
  @Header('content-type', 'application/yaml; charset=utf-8')
  @Header('x-content-type-options', 'nosniff')
  yaml(): string {
    return this.document.yaml;
  }

  @Get('openapi.json')
  @Header('content-type', 'application/json; charset=utf-8')
  json(): string {
    return this.document.json;
  }
}
