// A wasi:http handler for jco componentize (t/component, served by wasmd and by `jco serve`):
//   GET  /json      200 application/json {"method":"GET","path":"/json?...","n":<header count>}
//   GET  /headers   200 text/plain: every request header as "name: value\n", in order
//   POST /echo      200: the request body streamed back chunk by chunk (each chunk flushed),
//                   with the request's x-* headers echoed as x-echo-* response headers
//   GET  /state     isolation: module state (a counter, an array, a global object property)
//                   mutated by every request, answered as found before: a server that resets
//                   the whole component after each request always says
//                   "count=0 seen=0 flag=unset"; `jco serve` keeps its instance and counts up
//   other methods on those paths: 405 with an allow header; any other path: 404
import { OutgoingResponse, OutgoingBody, Fields, ResponseOutparam } from 'wasi:http/types@0.2.10';

const enc = new TextEncoder();
const dec = new TextDecoder();

function respond(responseOut, status, headers, chunks) {
  const fields = new Fields();
  for (const [k, v] of headers) fields.append(k, enc.encode(v));
  const resp = new OutgoingResponse(fields);
  resp.setStatusCode(status);
  const body = resp.body();
  ResponseOutparam.set(responseOut, { tag: 'ok', val: resp });
  const out = body.write();
  if (typeof chunks === 'function') {
    chunks(out);
  } else {
    for (const c of chunks) out.blockingWriteAndFlush(typeof c === 'string' ? enc.encode(c) : c);
  }
  out[Symbol.dispose]();
  OutgoingBody.finish(body, undefined);
}

function methodName(m) {
  return m.tag === 'other' ? m.val : m.tag.toUpperCase();
}

let count = 0;
const seen = [];

export const incomingHandler = {
  handle(request, responseOut) {
    const pq = request.pathWithQuery() || '/';
    const path = pq.split('?')[0];
    const method = methodName(request.method());
    const hdrs = request.headers().entries();
    const want = { '/json': 'GET', '/headers': 'GET', '/echo': 'POST', '/state': 'GET' }[path];
    if (want === undefined) {
      respond(responseOut, 404, [['content-type', 'text/plain']], ['not found: ' + path + '\n']);
      return;
    }
    if (method !== want) {
      respond(responseOut, 405, [['content-type', 'text/plain'], ['allow', want]],
              ['method ' + method + ' not allowed\n']);
      return;
    }
    if (path === '/json') {
      const j = JSON.stringify({ method, path: pq, n: hdrs.length });
      respond(responseOut, 200, [['content-type', 'application/json']], [j + '\n']);
      return;
    }
    if (path === '/state') {
      const line = 'count=' + count + ' seen=' + seen.length + ' flag=' +
                   (globalThis.wasmdFlag || 'unset') + '\n';
      count++;
      for (let i = 0; i < 100; i++) seen.push(pq + i);
      globalThis.wasmdFlag = 'set by ' + pq;
      respond(responseOut, 200, [['content-type', 'text/plain']], [line]);
      return;
    }
    if (path === '/headers') {
      respond(responseOut, 200, [['content-type', 'text/plain']],
              [hdrs.map(([k, v]) => k + ': ' + dec.decode(v) + '\n').join('')]);
      return;
    }
    // /echo: stream the request body back
    const echoed = [['content-type', 'application/octet-stream']];
    for (const [k, v] of hdrs) {
      if (k.toLowerCase().startsWith('x-')) echoed.push(['x-echo-' + k.toLowerCase().slice(2), dec.decode(v)]);
    }
    const inBody = request.consume();
    const ins = inBody.stream();
    respond(responseOut, 200, echoed, (out) => {
      for (;;) {
        let chunk;
        try {
          chunk = ins.blockingRead(16384n);
        } catch (e) {
          break;                      // closed: the end of the request body
        }
        if (chunk.length) out.blockingWriteAndFlush(chunk);
      }
    });
    ins[Symbol.dispose]();
  }
};
