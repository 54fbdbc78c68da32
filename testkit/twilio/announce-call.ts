/**
 * Twilio's first step of every call, for simulated callers: POST the incoming-call webhook (`/voice`)
 * and read the `<Parameter>`s of the `<Stream>` it answers, which the media stream's `start` must
 * carry back (the server refuses a stream it did not announce; see src/routes/stream-ticket.ts).
 */
export interface AnnouncedCall {
  callSid: string;
  from: string;
  to: string;
}

/** The http(s) origin of a ws(s) media URL. */
export function httpOrigin(mediaUrl: string): string {
  const url = new URL(mediaUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url.origin;
}

/** POSTs `/voice` for the call; resolves the stream's custom parameters from the TwiML. */
export async function announceCall(
  mediaUrl: string,
  call: AnnouncedCall,
  headers: (params: Record<string, string>) => Record<string, string> = () => ({}),
): Promise<Record<string, string>> {
  const params = { CallSid: call.callSid, From: call.from, To: call.to };
  const response = await fetch(`${httpOrigin(mediaUrl)}/voice`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers(params) },
    body: new URLSearchParams(params).toString(),
  });
  const twiml = await response.text();
  if (!response.ok) throw new Error(`/voice answered ${response.status}: ${twiml.slice(0, 200)}`);
  return streamParameters(twiml);
}

/** The `<Parameter name value>` pairs of a TwiML document. */
export function streamParameters(twiml: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of twiml.matchAll(/<Parameter name="([^"]*)" value="([^"]*)"\/>/g)) {
    out[unescapeXml(match[1] ?? '')] = unescapeXml(match[2] ?? '');
  }
  return out;
}

function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_m, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[name] ?? '');
}
