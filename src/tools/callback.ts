/**
 * `request_callback`: stores a request for a person to call the caller back (after a transfer
 * nobody took, or outside transfer hours). The phone, day and time are critical: the caller has
 * heard them read back and said yes before this runs. Ops list them at GET /callbacks.
 */
import type { z } from 'zod';
import type { CallbackRequest, TransferStore } from '../store/transfer-store.js';
import { requestCallbackInput } from './calendar-schemas.js';
import type { Tool } from './tool.js';

type CallbackArgs = z.infer<typeof requestCallbackInput>;

export interface CallbackToolOptions {
  store: TransferStore;
  /** Called once the request is stored (metrics, the call record). */
  onStored?: (request: CallbackRequest) => void;
}

export function createCallbackTool(options: CallbackToolOptions): Tool<CallbackArgs, { callback: CallbackRequest }> {
  return {
    name: 'request_callback',
    description:
      'Ask a member of staff to call the caller back. Use when nobody could take a transfer or outside transfer hours. ' +
      'Read back the phone number, day and time and get a yes before calling it.',
    input: requestCallbackInput,
    timeoutMs: 2000,
    async run(args, { signal, callSid }) {
      signal.throwIfAborted();
      const callback = await options.store.addCallback({
        callSid,
        phone: args.phone,
        date: args.date,
        time: args.time,
        topic: 'callback',
        note: args.note ?? '',
      });
      options.onStored?.(callback);
      return { callback };
    },
  };
}
