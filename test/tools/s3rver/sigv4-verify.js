'use strict';
// SigV4 verification for s3rver (installed into s3rver by patch.js): the
// server recomputes the signature of every SigV4 request, header or query
// form, from the raw request and the account's secret, and compares.
// Written for dbsetup's tests; s3rver 3.7.1 accepts any SigV4 signature.
//
// Test knobs (environment of the s3rver process):
//   DBS_S3RVER_ACCESS_KEY_ID / DBS_S3RVER_SECRET_ACCESS_KEY  extra key pair
//   DBS_S3RVER_REGION         reject credential scopes for another region
//                             (except for GetBucketLocation)
//   DBS_S3RVER_SESSION_TOKEN  require this signed x-amz-security-token
const { createHash, createHmac } = require('crypto');

function rfc3986(s) {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    ch => '%' + ch.charCodeAt(0).toString(16).toUpperCase(),
  );
}

function decode(s) {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    return s;
  }
}

function canonicalUri(rawPath) {
  return rawPath.split('/').map(seg => rfc3986(decode(seg))).join('/');
}

function canonicalQuery(rawQuery, dropSignature) {
  const pairs = [];
  for (const part of (rawQuery || '').split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decode(part.slice(eq + 1));
    if (dropSignature && name === 'X-Amz-Signature') continue;
    pairs.push([rfc3986(name), rfc3986(value)]);
  }
  pairs.sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0,
  );
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

function hmac(key, data) {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

// Returns { ok, error?, canonicalRequest, stringToSign }.
// error: [code, message] for failures other than a plain mismatch.
function verify(req, secret) {
  const url = req.url;
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const headers = req.headers;
  let credential, signedHeaders, provided, amzDate, payload, presigned = false;
  if (headers.authorization) {
    const auth = headers.authorization;
    const sp = auth.indexOf(' ');
    const parts = {};
    for (const c of auth.slice(sp + 1).split(',')) {
      const t = c.trim();
      const e = t.indexOf('=');
      parts[t.slice(0, e)] = t.slice(e + 1);
    }
    credential = parts.Credential;
    signedHeaders = parts.SignedHeaders;
    provided = parts.Signature;
    amzDate = headers['x-amz-date'];
    payload = headers['x-amz-content-sha256'];
  } else {
    presigned = true;
    const qp = new URLSearchParams(rawQuery);
    credential = qp.get('X-Amz-Credential');
    signedHeaders = qp.get('X-Amz-SignedHeaders');
    provided = qp.get('X-Amz-Signature');
    amzDate = qp.get('X-Amz-Date');
    payload = 'UNSIGNED-PAYLOAD';
  }
  if (!credential || !signedHeaders || !provided || !amzDate || !payload) {
    return { ok: false, error: ['AuthorizationHeaderMalformed',
      'The authorization header is malformed (Credential, SignedHeaders, Signature, x-amz-date, x-amz-content-sha256).'] };
  }
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    return { ok: false, error: ['AuthorizationHeaderMalformed',
      `The authorization header is malformed; the Credential is mal-formed: ${credential}`] };
  }
  const [, date, region, service] = scope;
  const wantRegion = process.env.DBS_S3RVER_REGION;
  // GetBucketLocation is answered from any region, as AWS does.
  const isLocation = /(^|&)location(=|&|$)/.test(rawQuery);
  if (wantRegion && region !== wantRegion && !isLocation) {
    return { ok: false, error: ['AuthorizationHeaderMalformed',
      `The authorization header is malformed; the region '${region}' is wrong; expecting '${wantRegion}'`] };
  }
  if (amzDate.slice(0, 8) !== date) {
    return { ok: false, error: ['AuthorizationHeaderMalformed',
      'The authorization header is malformed; the credential date does not match x-amz-date.'] };
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host')) {
    return { ok: false, error: ['AccessDenied', 'The host header must be signed.'] };
  }
  const wantToken = process.env.DBS_S3RVER_SESSION_TOKEN;
  if (wantToken) {
    const token = presigned
      ? new URLSearchParams(rawQuery).get('X-Amz-Security-Token')
      : headers['x-amz-security-token'];
    if (token !== wantToken || (!presigned && !names.includes('x-amz-security-token'))) {
      return { ok: false, error: ['InvalidToken',
        'The provided token is malformed or otherwise invalid.'] };
    }
  }
  const canonHeaders = names
    .map(n => {
      const v = headers[n];
      if (v === undefined) return null;
      return `${n}:${String(v).trim().replace(/\s+/g, ' ')}\n`;
    });
  if (canonHeaders.includes(null)) {
    return { ok: false, error: ['AccessDenied',
      'There were headers present in SignedHeaders that were not sent.'] };
  }
  const canonicalRequest = [
    req.method,
    canonicalUri(rawPath),
    canonicalQuery(rawQuery, presigned),
    canonHeaders.join(''),
    signedHeaders,
    payload,
  ].join('\n');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope.slice(1).join('/'),
    createHash('sha256').update(canonicalRequest, 'utf8').digest('hex'),
  ].join('\n');
  let k = hmac('AWS4' + secret, date);
  k = hmac(k, region);
  k = hmac(k, service);
  k = hmac(k, 'aws4_request');
  const expected = createHmac('sha256', k).update(stringToSign, 'utf8').digest('hex');
  return { ok: expected === provided, canonicalRequest, stringToSign };
}

module.exports = { verify, canonicalUri, canonicalQuery };
