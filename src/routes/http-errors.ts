/**
 * Every HTTP error this server answers, in one table (the pattern of fastify's own errors.js): a
 * stable code clients and tests can match, the status, and the message. Routes never write an
 * error string of their own; they call `sendError(reply, 'CODE')`. Messages are constant: nothing
 * from the request is echoed back.
 */
import type { FastifyReply } from 'fastify';

export const HTTP_ERRORS = {
  VA_BAD_SIGNATURE: { status: 403, message: 'invalid signature' },
  VA_BAD_INCOMING_CALL: { status: 400, message: 'expected a Twilio incoming-call webhook (CallSid)' },
  VA_BAD_STATUS_CALLBACK: { status: 400, message: 'expected a Twilio status callback (CallSid)' },
  VA_NOT_FOUND: { status: 404, message: 'not found' },
  VA_PHONE_NOT_INSTALLED: { status: 503, message: 'browser phone files are not installed (public/phone)' },
  VA_BAD_PHONE_TOKEN: { status: 403, message: 'missing, used or expired phone token' },
  VA_NOT_LOCAL: {
    status: 403,
    message: 'without ADMIN_TOKEN, ops endpoints answer only to loopback callers not behind a proxy or tunnel',
  },
  VA_BAD_BEARER: { status: 401, message: 'missing or wrong bearer token' },
  VA_UNKNOWN_CALL: { status: 404, message: 'unknown call' },
  VA_NOT_AN_UPGRADE: { status: 426, message: 'this endpoint is a WebSocket (Twilio Media Streams)' },
  VA_TOO_MANY_SOCKETS: { status: 429, message: 'too many open media sockets from this address' },
  VA_SOCKETS_FULL: { status: 503, message: 'too many open media sockets' },
} as const satisfies Record<string, { status: number; message: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** The JSON body of an error answer. */
export function errorBody(code: HttpErrorCode): { error: string; code: HttpErrorCode } {
  return { error: HTTP_ERRORS[code].message, code };
}

export function sendError(reply: FastifyReply, code: HttpErrorCode): FastifyReply {
  return reply.code(HTTP_ERRORS[code].status).send(errorBody(code));
}
