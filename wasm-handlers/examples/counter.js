// counter.js: a hit counter kept in the route's key-value store (wasi:keyvalue), the
// JavaScript twin of counter.c. GET -> "hit 1", "hit 2", ... shared by every worker and
// server using the store, kept across restarts. Store: "default" (with no keyvalue_store
// configured, an LMDB store under the prefix); wasm_config counter_key picks the key.
import { open } from 'wasi:keyvalue/store@0.2.0-draft2';
import { increment } from 'wasi:keyvalue/atomics@0.2.0-draft2';
import { get as configGet } from 'wasi:config/store@0.2.0-draft';
import { OutgoingResponse, OutgoingBody, Fields, ResponseOutparam } from 'wasi:http/types@0.2.10';

function respond(responseOut, status, text) {
  const headers = new Fields();
  headers.append('content-type', new TextEncoder().encode('text/plain'));
  const resp = new OutgoingResponse(headers);
  resp.setStatusCode(status);
  const body = resp.body();
  ResponseOutparam.set(responseOut, { tag: 'ok', val: resp });
  const out = body.write();
  out.blockingWriteAndFlush(new TextEncoder().encode(text));
  out[Symbol.dispose]();
  OutgoingBody.finish(body, undefined);
}

export const incomingHandler = {
  handle(request, responseOut) {
    let n;
    try {
      const key = configGet('counter_key') ?? 'hits';
      const bucket = open('default');
      n = increment(bucket, key, 1n);
      bucket[Symbol.dispose]();
    } catch (e) {
      respond(responseOut, 503, 'store unavailable: ' + JSON.stringify(e.payload ?? String(e)) + '\n');
      return;
    }
    respond(responseOut, 200, 'hit ' + n + '\n');
  }
};
