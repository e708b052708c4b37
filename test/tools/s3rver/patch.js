'use strict';
// Patches an installed s3rver 3.7.1 for dbsetup's tests (idempotent: every
// run starts again from the pristine *.dbs-orig copies):
//  1. delimiter listings below a prefix return CommonPrefixes, and keys are
//     listed in full byte order so that marker pagination loses nothing;
//  2. the SigV2 string to sign has the Date header (it was left empty for
//     the Authorization-header form) and the request's own path, so
//     bucket-level requests (GET /bucket/) match what clients sign;
//  3. SigV4 signatures are recomputed and enforced (sigv4-verify.js);
//     a mismatch is 403 SignatureDoesNotMatch;
//  4. GetBucketLocation answers $DBS_S3RVER_LOCATION when it is set (a
//     test knob: s3rver always answered us-east-1);
//  5. with test credentials set (DBS_S3RVER_ACCESS_KEY_ID) buckets are
//     private, as on S3: an unsigned request is refused with 403
//     AccessDenied (s3rver served anonymous requests);
//  6. a PUT (object or multipart part) is acknowledged only once its bytes
//     are in the file, and an object appears under its name only when
//     complete (written beside it, then renamed). s3rver answered when the
//     request body had been read, before the file writes finished: a
//     CompleteMultipartUpload could concatenate a part that was still
//     short, and a listing or GET could see a half-written object. It
//     made a 1 GB snapshot fail as a "truncated LZ4 frame" once.
// Usage: node patch.js DIR/node_modules/s3rver
const fs = require('fs');
const path = require('path');

const root = process.argv[2];
if (!root) throw new Error('usage: node patch.js S3RVER_DIR');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json')));
if (pkg.version !== '3.7.1') throw new Error(`s3rver ${pkg.version} is not 3.7.1`);

function patchFile(rel, edits) {
  const file = path.join(root, rel);
  const orig = file + '.dbs-orig';
  if (!fs.existsSync(orig)) fs.copyFileSync(file, orig);
  let text = fs.readFileSync(orig, 'utf8');
  for (const [from, to] of edits) {
    const at = text.indexOf(from);
    if (at < 0 || text.indexOf(from, at + 1) >= 0)
      throw new Error(`${rel}: anchor not found exactly once: ${from.slice(0, 60)}`);
    text = text.slice(0, at) + to + text.slice(at + from.length);
  }
  fs.writeFileSync(file, text);
}

// 1. Listing.
patchFile('lib/stores/filesystem.js', [
  [
    `        if (
          delimiterEnc &&
          dirPath.slice(prefixPath.length).indexOf(delimiterEnc) !== -1
        ) {
          // avoid directories occurring beneath a common prefix
          return false;
        }
`,
    `        // dbs patch: directories beneath a common prefix are walked, so
        // that their keys produce CommonPrefixes entries.
`,
  ],
  [
    `    for (const keyPath of it) {`,
    `    // dbs patch: list in key order, as S3 does (readdir order is not).
    const keyOf = p =>
      p.endsWith(objectSuffix) ? p.slice(0, -objectSuffix.length) : p;
    const sorted = [...it].sort((a, b) =>
      Buffer.compare(Buffer.from(keyOf(a)), Buffer.from(keyOf(b))),
    );
    for (const keyPath of sorted) {`,
  ],
  // 6. Writes complete before the answer; objects appear whole.
  [
    `      const writeStream = fs.createWriteStream(objectPath);
      const md5Context = crypto.createHash('md5');

      if (Buffer.isBuffer(object.content)) {
        writeStream.end(object.content);
        md5Context.update(object.content);
        resolve([object.content.length, md5Context.digest('hex')]);
      } else {`,
    `      // dbs patch: written beside the object, renamed when complete.
      const partial = objectPath + '.dbs-partial';
      let failed = false;
      const writeStream = fs.createWriteStream(partial).on('error', err => {
        failed = true;
        reject(err);
      });
      const md5Context = crypto.createHash('md5');
      const done = result =>
        writeStream.on('close', () => {
          if (!failed)
            fs.rename(partial, objectPath).then(() => resolve(result), reject);
        });

      if (Buffer.isBuffer(object.content)) {
        md5Context.update(object.content);
        done([object.content.length, md5Context.digest('hex')]);
        writeStream.end(object.content);
      } else {`,
  ],
  [
    `          .on('error', reject)
          .on('finish', () => resolve([totalLength, md5Context.digest('hex')]))
          .pipe(writeStream);`,
    `          .on('error', reject)
          .on('finish', () => done([totalLength, md5Context.digest('hex')]))
          .pipe(writeStream);`,
  ],
  [
    `        .on('error', reject)
        .on('finish', () => {
          resolve([totalLength, md5Context.digest('hex')]);
        })
        .pipe(writeStream);`,
    `        .on('error', reject)
        .pipe(writeStream)
        // dbs patch: answered once the part's bytes are in its file.
        .on('error', reject)
        .on('close', () => resolve([totalLength, md5Context.digest('hex')]));`,
  ],
]);

// 2 and 3. Authentication.
fs.copyFileSync(path.join(__dirname, 'sigv4-verify.js'),
  path.join(root, 'lib/middleware/dbs-sigv4-verify.js'));
patchFile('lib/middleware/authentication.js', [
  [
    `const AWSAccount = require('../models/account');`,
    `const AWSAccount = require('../models/account');
const dbsSigV4 = require('./dbs-sigv4-verify');
if (process.env.DBS_S3RVER_ACCESS_KEY_ID) {
  AWSAccount.DUMMY_ACCOUNT.createKeyPair(
    process.env.DBS_S3RVER_ACCESS_KEY_ID,
    process.env.DBS_S3RVER_SECRET_ACCESS_KEY || '',
  );
}`,
  ],
  [
    `    let canonicalizedResource = ctx.mountPath || '';
    if (ctx.params.bucket) {
      // the following behavior is derived from the behavior of the JS aws-sdk
      if (ctx.state.vhost) {
        canonicalizedResource = '/' + ctx.params.bucket + canonicalizedResource;
      } else {
        canonicalizedResource += '/' + ctx.params.bucket;
      }
      if (ctx.params.key) {
        canonicalizedResource += '/' + ctx.params.key;
      }
    } else {
      canonicalizedResource += '/';
    }
`,
    `    // dbs patch: the resource is the request's own path (un-decoded, a
    // trailing slash kept), with the bucket first for virtual hosts.
    let canonicalizedResource = ctx.originalUrl.split('?')[0];
    if (ctx.state.vhost && ctx.params.bucket) {
      canonicalizedResource = '/' + ctx.params.bucket + canonicalizedResource;
    }
    canonicalizedResource = canonicalizedResource
      .split('/')
      .map(s => { try { return decodeURIComponent(s); } catch (e) { return s; } })
      .join('/');
`,
  ],
  [
    `    if (mechanismCount === 0) {
      return next();
    }`,
    `    if (mechanismCount === 0) {
      // dbs patch: with test credentials the buckets are private.
      if (process.env.DBS_S3RVER_ACCESS_KEY_ID)
        throw new S3Error('AccessDenied', 'Access Denied');
      return next();
    }`,
  ],
  [
    `      const result = parseHeader(ctx.headers);
      ({ signature, signatureProvided } = result);`,
    `      const result = parseHeader(ctx.headers);
      ({ signature, signatureProvided } = result);
      // dbs patch: SigV2's Date line (empty when x-amz-date is sent).
      canonicalRequest.timestamp =
        'x-amz-date' in ctx.headers ? '' : ctx.get('Date');`,
  ],
  [
    `      // Signature version 4 calculation is unimplemeneted
      ctx.state.account = account;`,
    `      // dbs patch: recompute and compare the SigV4 signature.
      const v4 = dbsSigV4.verify(
        { method: ctx.method, url: ctx.originalUrl, headers: ctx.req.headers },
        account.accessKeys.get(signature.accessKeyId),
      );
      if (v4.error) throw new S3Error(v4.error[0], v4.error[1]);
      stringToSign = v4.stringToSign;
      if (v4.ok) ctx.state.account = account;
      else ctx.logger.error('SigV4 mismatch; canonical request:\\n%s', v4.canonicalRequest);`,
  ],
]);
// 4. Bucket location knob.
patchFile('lib/controllers/bucket.js', [
  [
    `  ctx.body = {
    LocationConstraint: {
      '@': { xmlns: 'http://doc.s3.amazonaws.com/2006-03-01/' },
    },
  };`,
    `  ctx.body = {
    LocationConstraint: {
      '@': { xmlns: 'http://doc.s3.amazonaws.com/2006-03-01/' },
      // dbs patch: a test knob for the bucket's region.
      ...(process.env.DBS_S3RVER_LOCATION
        ? { '#text': process.env.DBS_S3RVER_LOCATION }
        : {}),
    },
  };`,
  ],
]);
console.log('s3rver patched');
