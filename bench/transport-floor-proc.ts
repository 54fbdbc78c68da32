/**
 * The transport floor: a bare `ws` server that does the least any Twilio Media Streams server must
 * do — parse every inbound JSON message, decode the media payload from base64, and send a media
 * frame back (JSON + base64) for every frame received, i.e. 50 frames/s each way per call, like an
 * agent that talks all the time. No VAD, no STT, no dialog. Its CPU per call, measured in the same
 * run as the server's, is what the server's CPU per call is compared with.
 */
import { WebSocketServer } from 'ws';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 });
let frames = 0;
server.on('connection', (ws) => {
  let streamSid = '';
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { event: string; streamSid?: string; start?: { streamSid: string }; media?: { payload: string } };
    if (message.event === 'start') streamSid = message.start?.streamSid ?? '';
    if (message.event !== 'media' || !message.media) return;
    const audio = Buffer.from(message.media.payload, 'base64');
    frames++;
    ws.send(JSON.stringify({ event: 'media', streamSid, media: { payload: audio.toString('base64') } }));
  });
});
server.on('listening', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ ready: { url: `ws://127.0.0.1:${port}` } });
});
process.on('message', (m: { id?: number; command: string }) => {
  if (m.command === 'exit') {
    server.close();
    process.exit(0);
  }
  process.send?.({ id: m.id, result: { frames } });
});
process.on('disconnect', () => process.exit(0));
