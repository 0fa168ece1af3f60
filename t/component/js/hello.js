// A wasi:http handler for jco componentize (t/component): 200 "hello from js" on /, 404 elsewhere.
import { OutgoingResponse, OutgoingBody, Fields, ResponseOutparam } from 'wasi:http/types@0.2.10';

export const incomingHandler = {
  handle(request, responseOut) {
    const path = request.pathWithQuery() || '/';
    const headers = new Fields();
    headers.append('content-type', new TextEncoder().encode('text/plain'));
    const resp = new OutgoingResponse(headers);
    resp.setStatusCode(path === '/' ? 200 : 404);
    const body = resp.body();
    ResponseOutparam.set(responseOut, { tag: 'ok', val: resp });
    const out = body.write();
    out.blockingWriteAndFlush(new TextEncoder().encode(path === '/' ? 'hello from js\n' : 'not found\n'));
    out[Symbol.dispose]();
    OutgoingBody.finish(body, undefined);
  }
};
