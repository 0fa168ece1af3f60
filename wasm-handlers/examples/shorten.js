// shorten.js: a small URL shortener on wasi:keyvalue, configured through wasi:config -- the
// JavaScript twin of shorten.c (same routes, keys and answers, so both can serve one store).
//
//   POST /s/            body: https://example.com/long/path   -> 201, "BASE/Ab3\n",
//                       Location: BASE/Ab3 (also POST /s/?url=...)
//   GET  /s/Ab3         -> 302 to the long URL (counts the visit), 404 if unknown
//   GET  /s/Ab3.stats   -> "visits N\n"
//
//   location /s/ {
//       wasm_handler  handlers/shorten.js.wasm;
//       wasm_config   base_url https://sho.rt/s;     # what links start with
//       wasm_config   store    links;                # which store (default: "default")
//   }
//
// Codes are the base-62 digits of an atomic counter ("next"), so every worker and server
// sharing the store hands out distinct codes. Keys: "u:CODE" the URL, "v:CODE" the visits
// (ASCII decimal). Without base_url, links start with http://HOST/s. Only http and https
// URLs of at most 2048 bytes without spaces or control characters are accepted (400).
import { open } from 'wasi:keyvalue/store@0.2.0-draft2';
import { increment } from 'wasi:keyvalue/atomics@0.2.0-draft2';
import { get as configGet } from 'wasi:config/store@0.2.0-draft';
import { OutgoingResponse, OutgoingBody, Fields, ResponseOutparam } from 'wasi:http/types@0.2.10';

const URL_MAX = 2048;
const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const enc = new TextEncoder(), dec = new TextDecoder();

function respond(responseOut, status, text, location) {
  const headers = new Fields();
  headers.append('content-type', enc.encode('text/plain'));
  if (location !== undefined)
    headers.append('location', enc.encode(location));
  const resp = new OutgoingResponse(headers);
  resp.setStatusCode(status);
  const body = resp.body();
  ResponseOutparam.set(responseOut, { tag: 'ok', val: resp });
  const out = body.write();
  out.blockingWriteAndFlush(enc.encode(text));
  out[Symbol.dispose]();
  OutgoingBody.finish(body, undefined);
}

function base62(n) {
  let s = '';
  do {
    s = DIGITS[Number(n % 62n)] + s;
    n /= 62n;
  } while (n > 0n);
  return s;
}

function urlOk(u) {
  if (u.length > URL_MAX)
    return false;
  const scheme = u.startsWith('https://') ? 8 : u.startsWith('http://') ? 7 : 0;
  if (scheme === 0 || u.length === scheme || u[scheme] === '/')
    return false;
  for (let i = 0; i < u.length; i++)
    if (u.charCodeAt(i) <= 0x20 || u.charCodeAt(i) === 0x7f)
      return false;
  return true;
}

// the long URL: ?url= (percent-decoded), else the body (at most URL_MAX + 1 bytes read)
function readUrl(request, query) {
  if (query.startsWith('url=')) {
    const v = query.slice(4).split('&')[0].replace(/\+/g, ' ');
    try {
      return decodeURIComponent(v);
    } catch (e) {
      return '';
    }
  }
  const body = request.consume();
  const stream = body.stream();
  const parts = [];
  let n = 0;
  try {
    while (n <= URL_MAX) {
      const chunk = stream.blockingRead(BigInt(URL_MAX + 1 - n));
      parts.push(chunk);
      n += chunk.length;
    }
  } catch (e) {
    if (e.payload?.tag !== 'closed')
      throw e;
  }
  stream[Symbol.dispose]();
  const all = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return dec.decode(all).replace(/[\r\n]+$/, '');
}

function storeError(responseOut, e) {
  const why = e?.payload?.tag === 'other' ? e.payload.val : String(e?.payload?.tag ?? e);
  console.error('shorten: ' + why);
  respond(responseOut, 503, 'store unavailable\n');
}

function shorten(request, responseOut, bucket, query) {
  const url = readUrl(request, query);
  if (!urlOk(url)) {
    respond(responseOut, 400, 'expected an http:// or https:// URL of at most 2048 bytes\n');
    return;
  }
  let code;
  try {
    code = base62(increment(bucket, 'next', 1n));
    bucket.set('u:' + code, enc.encode(url));
  } catch (e) {
    storeError(responseOut, e);
    return;
  }
  let base = configGet('base_url');
  if (base === undefined || base.length >= 512)
    base = 'http://' + (request.authority() ?? '').slice(0, 400) + '/s';
  if (base.endsWith('/'))
    base = base.slice(0, -1);
  const link = base + '/' + code;
  respond(responseOut, 201, link + '\n', link);
}

function follow(request, responseOut, bucket, path) {
  let seg = path.slice(path.lastIndexOf('/') + 1);
  const stats = seg.length > 6 && seg.endsWith('.stats');
  if (stats)
    seg = seg.slice(0, -6);
  if (!/^[0-9a-zA-Z]{1,12}$/.test(seg)) {
    respond(responseOut, 404, 'no such link\n');
    return;
  }
  try {
    const v = bucket.get((stats ? 'v:' : 'u:') + seg);
    if (stats) {
      respond(responseOut, 200, 'visits ' + (v !== undefined && v.length < 21 ? dec.decode(v) : '0') + '\n');
      return;
    }
    if (v === undefined || v.length > URL_MAX) {
      respond(responseOut, 404, 'no such link\n');
      return;
    }
    increment(bucket, 'v:' + seg, 1n);
    respond(responseOut, 302, 'moved\n', dec.decode(v));
  } catch (e) {
    storeError(responseOut, e);
  }
}

export const incomingHandler = {
  handle(request, responseOut) {
    const pq = request.pathWithQuery() ?? '/';
    const q = pq.indexOf('?');
    const path = q < 0 ? pq : pq.slice(0, q), query = q < 0 ? '' : pq.slice(q + 1);
    let bucket;
    try {
      const name = configGet('store');
      bucket = open(name !== undefined && name.length > 0 && name.length <= 64 ? name : 'default');
    } catch (e) {
      storeError(responseOut, e);
      return;
    }
    const m = request.method().tag;
    if (m === 'post')
      shorten(request, responseOut, bucket, query);
    else if (m === 'get' || m === 'head')
      follow(request, responseOut, bucket, path);
    else
      respond(responseOut, 405, 'GET a link or POST a URL\n');
    bucket[Symbol.dispose]();
  }
};
