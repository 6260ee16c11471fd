import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyStowBody, stowResponseType } from '../../src/dicomweb/stow/stow-request';
import { BadRequest, NotAcceptable, UnsupportedMediaType } from '../../src/dicomweb/errors';
import { negotiate, parseAccept } from '../../src/dicomweb/accept';

test('multipart/related with type application/dicom and a boundary is accepted', () => {
  assert.deepEqual(classifyStowBody('multipart/related; type="application/dicom"; boundary=abc'), {
    kind: 'multipart',
    boundary: 'abc',
  });
  assert.deepEqual(classifyStowBody('Multipart/Related; Type=application/DICOM; boundary="a b:c"'), {
    kind: 'multipart',
    boundary: 'a b:c',
  });
});

test('a bare application/dicom body is one instance', () => {
  assert.deepEqual(classifyStowBody('application/dicom'), { kind: 'single' });
});

test('other media types are 415, a missing boundary is 400', () => {
  for (const ct of [undefined, '', 'text/plain', 'application/json', 'multipart/form-data; boundary=x',
    'multipart/related; boundary=x', 'multipart/related; type="application/dicom+json"; boundary=x']) {
    assert.throws(() => classifyStowBody(ct), UnsupportedMediaType, String(ct));
  }
  assert.throws(() => classifyStowBody('multipart/related; type="application/dicom"'), BadRequest);
  assert.throws(() => classifyStowBody(`multipart/related; type="application/dicom"; boundary=${'x'.repeat(71)}`), BadRequest);
});

test('STOW answers JSON unless the client accepts neither', () => {
  assert.equal(stowResponseType(undefined), 'application/dicom+json');
  assert.equal(stowResponseType('*/*'), 'application/dicom+json');
  assert.equal(stowResponseType('application/json'), 'application/json');
  assert.equal(stowResponseType('application/dicom+xml;q=1, application/json;q=0.5'), 'application/json');
  assert.throws(() => stowResponseType('application/dicom+xml'), NotAcceptable);
  assert.throws(() => stowResponseType('application/dicom+json;q=0'), NotAcceptable);
});

test('Accept parsing keeps parameters, orders by q, ignores commas inside quotes', () => {
  const ranges = parseAccept('multipart/related; type="application/octet-stream, x"; q=0.5, application/dicom+json');
  assert.equal(ranges.length, 2);
  assert.equal(ranges[0].type, 'application/dicom+json');
  assert.equal(ranges[1].params.type, 'application/octet-stream, x');
  assert.equal(ranges[1].q, 0.5);
  assert.equal(negotiate('image/*;q=0.2, image/png', ['image/jpeg', 'image/png']), 'image/png');
});
