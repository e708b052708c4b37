#!/usr/bin/env node
'use strict';
// faultproxy: an HTTP proxy on 127.0.0.1 in front of an S3 server that
// injects faults, for dbsetup's storage tests. Headers (Host included) are
// passed through unchanged, so SigV4 signatures still verify upstream.
//
//   node faultproxy.js --upstream HOST:PORT [--port P] [--fault SPEC]...
//
// SPEC is KIND[:COUNT[:MATCH]]: apply KIND to the first COUNT requests
// (default: all) whose "METHOD URL" contains MATCH (default: any).
// Rules are tried in order; a request takes the first rule with budget left.
//   503, 500, 502, 504   answer that status (503 with S3's SlowDown code)
//   429                  answer 429 with Retry-After: 1
//   403                  answer 403 AccessDenied
//   reset                forward, then reset the connection after
//                        --reset-after bytes of the body (default 100)
//   drop                 reset the connection before answering
//   trickle              forward the body in --trickle BYTES/MS pieces
//                        (default 64/20)
//   stall                forward the headers, then send nothing
//   slowreset            trickle, then reset after --reset-after bytes
//   endless              answer a listing itself: --endless-keys keys
//                        (default 1) below the request's prefix, always
//                        IsTruncated=true with a NextMarker that grows
//                        (a listing that never ends), after --endless-delay
//                        ms (default 0)
//   stuck                the same, but the NextMarker never changes
// Prints "faultproxy listening on PORT" when ready; logs one line per
// request to stdout: "REQ METHOD URL range=... fault=KIND".
const http = require('http');

const args = process.argv.slice(2);
let upstream, port = 0, resetAfter = 100, trickle = [64, 20];
let endlessKeys = 1, endlessDelay = 0, endlessPages = 0;
const rules = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i], v = args[i + 1];
  if (a === '--upstream') { upstream = v; i++; }
  else if (a === '--port') { port = Number(v); i++; }
  else if (a === '--reset-after') { resetAfter = Number(v); i++; }
  else if (a === '--trickle') { trickle = v.split('/').map(Number); i++; }
  else if (a === '--endless-keys') { endlessKeys = Number(v); i++; }
  else if (a === '--endless-delay') { endlessDelay = Number(v); i++; }
  else if (a === '--fault') {
    const [kind, count, ...match] = v.split(':');
    rules.push({ kind, left: count ? Number(count) : Infinity, match: match.join(':') });
    i++;
  } else { console.error(`faultproxy: unknown argument ${a}`); process.exit(64); }
}
if (!upstream) { console.error('faultproxy: --upstream HOST:PORT required'); process.exit(64); }
const [uhost, uport] = upstream.split(':');

function s3error(res, status, code, message, extra = {}) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${message}</Message><RequestId>faultproxy</RequestId></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

const xmlEscape = t => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// A ListObjects (v1) page that says there is always more.
function endlessPage(req, res, stuck) {
  const q = new URL(req.url, 'http://x').searchParams;
  const prefix = q.get('prefix') || '';
  const page = stuck ? 0 : ++endlessPages;
  let contents = '';
  for (let i = 0; i < endlessKeys; i++) {
    const key = `${prefix}endless-${String(page).padStart(9, '0')}-${String(i).padStart(6, '0')}`;
    contents += `<Contents><Key>${xmlEscape(key)}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>` +
      `<ETag>"0"</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>`;
  }
  const next = `${prefix}endless-${String(page).padStart(9, '0')}-~`;
  const body = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>' +
    `<Prefix>${xmlEscape(prefix)}</Prefix><Marker>${xmlEscape(q.get('marker') || '')}</Marker>` +
    `<MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated><NextMarker>${xmlEscape(next)}</NextMarker>` +
    `${contents}</ListBucketResult>`;
  setTimeout(() => {
    res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }, endlessDelay);
}

const server = http.createServer((req, res) => {
  const line = `${req.method} ${req.url}`;
  const rule = rules.find(r => r.left > 0 && line.includes(r.match));
  if (rule) rule.left--;
  const kind = rule ? rule.kind : 'none';
  console.log(`REQ ${line} range=${req.headers.range || '-'} fault=${kind}`);
  switch (kind) {
    case '503': return s3error(res, 503, 'SlowDown', 'Please reduce your request rate.');
    case '500': return s3error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
    case '502': return s3error(res, 502, 'BadGateway', 'Bad gateway.');
    case '504': return s3error(res, 504, 'GatewayTimeout', 'Gateway timeout.');
    case '429': return s3error(res, 429, 'TooManyRequests', 'Too many requests.', { 'Retry-After': '1' });
    case '403': return s3error(res, 403, 'AccessDenied', 'Access Denied');
    case 'drop': return req.socket.resetAndDestroy();
    case 'endless': return endlessPage(req, res, false);
    case 'stuck': return endlessPage(req, res, true);
  }
  const up = http.request({ host: uhost, port: uport, method: req.method,
    path: req.url, headers: req.headers }, ures => {
    res.writeHead(ures.statusCode, ures.headers);
    if (kind === 'stall') { res.flushHeaders(); ures.pause(); return; }
    let sent = 0;
    const queue = [];
    let busy = false, ended = false;
    const pump = () => {
      if (busy) return;
      if (kind === 'slowreset' && sent >= resetAfter) {
        ures.destroy();
        req.socket.resetAndDestroy();
        return;
      }
      const chunk = queue.shift();
      if (chunk === undefined) { if (ended) res.end(); return; }
      busy = true;
      sent += chunk.length;
      res.write(chunk, () => setTimeout(() => { busy = false; pump(); }, trickle[1]));
    };
    ures.on('data', d => {
      if (kind === 'reset') {
        const room = resetAfter - sent;
        if (room <= 0) return;
        const part = d.subarray(0, room);
        sent += part.length;
        res.write(part);
        if (sent >= resetAfter) {
          ures.destroy();
          setTimeout(() => req.socket.resetAndDestroy(), 50);
        }
      } else if (kind === 'trickle' || kind === 'slowreset') {
        for (let o = 0; o < d.length; o += trickle[0]) queue.push(d.subarray(o, o + trickle[0]));
        pump();
      } else {
        res.write(d);
      }
    });
    ures.on('end', () => {
      if (kind === 'trickle' || kind === 'slowreset') { ended = true; pump(); }
      else if (kind !== 'reset' || sent < resetAfter) res.end();
    });
  });
  up.on('error', e => { console.log(`UPSTREAM-ERROR ${e.message}`); req.socket.destroy(); });
  req.pipe(up);
});
server.keepAliveTimeout = 5000;
server.listen(port, '127.0.0.1', () => {
  console.log(`faultproxy listening on ${server.address().port}`);
});
