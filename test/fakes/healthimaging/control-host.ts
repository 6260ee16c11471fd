/**
 * The control-plane host of the fake (medical-imaging.{region}.amazonaws.com), rest-json, only
 * what the import path needs: GetDatastore, StartDICOMImportJob, GetDICOMImportJob,
 * ListDICOMImportJobs, in the shapes of the API model that @aws-sdk/client-medical-imaging reads
 * (timestamps as epoch seconds).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { accessDenied } from './auth-answers';
import { awsErrors, sendJsonError } from './aws-errors';
import { FakeState, datastoreArn } from './fake-state';
import { HostProtocol } from './host-server';
import { ImportJob, ImportJobs, JobStatus, StartRequest } from './import-jobs';
import { restJsonError, restJsonFault } from './rest-json-errors';
import { receiveSignedBody } from './signed-body';
import { SigV4Verifier } from './sigv4-verifier';

type ControlOperation = 'GetDatastore' | 'StartDICOMImportJob' | 'GetDICOMImportJob' | 'ListDICOMImportJobs';

interface ControlRoute {
  operation: ControlOperation;
  datastoreId: string;
  jobId?: string;
  query: URLSearchParams;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const JOB_STATUSES: JobStatus[] = ['SUBMITTED', 'IN_PROGRESS', 'COMPLETED', 'FAILED'];

function routeControl(req: IncomingMessage): ControlRoute | undefined {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const s = (q < 0 ? url : url.slice(0, q)).split('/').filter(Boolean).map(safeDecode);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const method = req.method ?? 'GET';
  if (method === 'GET' && s.length === 2 && s[0] === 'datastore') return { operation: 'GetDatastore', datastoreId: s[1], query };
  if (method === 'POST' && s.length === 3 && s[0] === 'startDICOMImportJob' && s[1] === 'datastore') return { operation: 'StartDICOMImportJob', datastoreId: s[2], query };
  if (method === 'GET' && s.length === 5 && s[0] === 'getDICOMImportJob' && s[1] === 'datastore' && s[3] === 'job') return { operation: 'GetDICOMImportJob', datastoreId: s[2], jobId: s[4], query };
  if (method === 'GET' && s.length === 3 && s[0] === 'listDICOMImportJobs' && s[1] === 'datastore') return { operation: 'ListDICOMImportJobs', datastoreId: s[2], query };
  return undefined;
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

function jobProperties(job: ImportJob) {
  return {
    jobId: job.jobId,
    jobName: job.jobName,
    jobStatus: job.jobStatus,
    datastoreId: job.datastoreId,
    dataAccessRoleArn: job.dataAccessRoleArn,
    endedAt: seconds(job.endedAt),
    submittedAt: seconds(job.submittedAt),
    inputS3Uri: job.inputS3Uri,
    outputS3Uri: job.outputS3Uri,
    message: job.message,
  };
}

function sendJson(res: ServerResponse, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

export function controlProtocol(state: FakeState, jobs: ImportJobs, verifier: SigV4Verifier): HostProtocol {
  function list(route: ControlRoute) {
    const status = route.query.get('jobStatus') ?? undefined;
    if (status !== undefined && !JOB_STATUSES.includes(status as JobStatus)) throw awsErrors.validation(`jobStatus must be one of ${JOB_STATUSES.join(', ')}`);
    const maxText = route.query.get('maxResults');
    const max = maxText === null ? 50 : Number(maxText);
    if (!Number.isInteger(max) || max < 1 || max > 50) throw awsErrors.validation('maxResults must be between 1 and 50');
    const token = route.query.get('nextToken');
    const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^offset:/, ''));
    if (!Number.isInteger(start) || start < 0) throw awsErrors.validation('nextToken is not valid');
    const all = jobs.list(status as JobStatus | undefined);
    const page = all.slice(start, start + max);
    return {
      jobSummaries: page.map((j) => ({ jobId: j.jobId, jobName: j.jobName, jobStatus: j.jobStatus, datastoreId: j.datastoreId, dataAccessRoleArn: j.dataAccessRoleArn, endedAt: seconds(j.endedAt), submittedAt: seconds(j.submittedAt), message: j.message })),
      nextToken: start + max < all.length ? Buffer.from(`offset:${start + max}`).toString('base64url') : undefined,
    };
  }

  return {
    host: 'control',
    classify: (req) => routeControl(req)?.operation ?? 'Unknown',
    async handle(req, res, ctx) {
      const auth = verifier.verify(req);
      const body = await receiveSignedBody(req, auth, { maxBytes: 1_048_576, onWireBytes: ctx.addWireBytes });
      const route = routeControl(req);
      if (!route) throw awsErrors.unknownOperation(req.method ?? 'GET', (req.url ?? '/').split('?')[0]);
      const config = state.config;
      if (!auth.identity.allowed) throw accessDenied(auth.identity, `medical-imaging:${route.operation}`, datastoreArn(config, route.datastoreId));
      if (route.datastoreId !== config.datastoreId) throw awsErrors.notFound(`Datastore ${route.datastoreId} does not exist`);
      switch (route.operation) {
        case 'GetDatastore':
          return sendJson(res, {
            datastoreProperties: {
              datastoreId: config.datastoreId,
              datastoreName: config.datastoreName,
              datastoreStatus: 'ACTIVE',
              datastoreArn: datastoreArn(config),
              createdAt: seconds(config.createdAt),
              updatedAt: seconds(config.createdAt),
            },
          });
        case 'StartDICOMImportJob': {
          let request: StartRequest;
          try {
            request = JSON.parse(body.bytes!.toString('utf8') || '{}') as StartRequest;
          } catch {
            throw awsErrors.validation('The request body is not valid JSON');
          }
          const job = jobs.start(request, auth.identity);
          return sendJson(res, { datastoreId: job.datastoreId, jobId: job.jobId, jobStatus: job.jobStatus, submittedAt: seconds(job.submittedAt) });
        }
        case 'GetDICOMImportJob':
          return sendJson(res, { jobProperties: jobProperties(jobs.get(route.jobId!)) });
        case 'ListDICOMImportJobs':
          return sendJson(res, list(route));
      }
    },
    writeError: (res, error, _ctx, close) => sendJsonError(res, restJsonError(error), close),
    faultError: restJsonFault,
  };
}
