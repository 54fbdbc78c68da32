/**
 * A tiny stand-in for api.twilio.com on 127.0.0.1: records each request (method, path, basic-auth
 * credentials, form body) and answers with whatever the test scripted.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../../../../testkit/fakes/http-body.js';

export interface RecordedRequest {
  method: string;
  path: string;
  username: string | undefined;
  password: string | undefined;
  form: Record<string, string>;
}

export interface ScriptedReply {
  status: number;
  body: unknown;
  /** Wait this long before answering, ms (to exercise aborts). */
  delayMs?: number;
}

export class FakeTwilioApi {
  readonly requests: RecordedRequest[] = [];
  reply: ScriptedReply = { status: 200, body: {} };
  /** Requests whose client went away before the reply was sent. */
  abandoned = 0;
  private readonly server: Server;
  private readonly pendingTimers = new Set<NodeJS.Timeout>();

  constructor() {
    this.server = createServer((request, response) => {
      void readBody(request).then((body) => {
        this.requests.push(record(request, body));
        const { status, body: replyBody, delayMs = 0 } = this.reply;
        const timer = setTimeout(() => {
          this.pendingTimers.delete(timer);
          response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(replyBody));
        }, delayMs);
        this.pendingTimers.add(timer);
        response.on('close', () => {
          if (!response.writableEnded) this.abandoned++;
        });
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const timer of this.pendingTimers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}


function record(request: IncomingMessage, body: string): RecordedRequest {
  const authorization = request.headers.authorization ?? '';
  const [username, password] = authorization.startsWith('Basic ')
    ? Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':')
    : [];
  return {
    method: request.method ?? '',
    path: request.url ?? '',
    username,
    password,
    form: Object.fromEntries(new URLSearchParams(body)),
  };
}
