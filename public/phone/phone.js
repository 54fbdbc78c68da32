// The browser phone: places a call to the agent by speaking Twilio Media Streams to /media exactly
// as Twilio would (connected → start → 20 ms μ-law media frames → stop; marks echoed when played,
// all pending marks echoed on clear), and shows the call session's live events. No framework.

const $ = (id) => document.getElementById(id);
const ui = { call: $('call'), hangup: $('hangup'), status: $('status'), transcript: $('transcript'), timings: $('timings').tBodies[0], adminToken: $('admin-token') };

/** Counters for people debugging audio, and for the browser test. */
const stats = {
  state: 'idle', callSid: null, streamSid: null, lastError: null,
  framesSent: 0, mediaMessagesReceived: 0, mediaBytesReceived: 0, marksReceived: 0, marksEchoed: 0, clearsReceived: 0,
  events: [],
};
window.phoneStats = stats;

let call = null;

function randomSid(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function setState(state, detail = '') {
  stats.state = state;
  ui.status.textContent = detail ? `${state}: ${detail}` : state;
  ui.call.disabled = state !== 'idle' && state !== 'ended' && state !== 'failed';
  ui.hangup.disabled = !ui.call.disabled;
}

async function requestSession() {
  const headers = {};
  const adminToken = ui.adminToken.value.trim();
  if (adminToken) headers.authorization = `Bearer ${adminToken}`;
  const response = await fetch('/phone/session', { method: 'POST', headers });
  if (!response.ok) throw new Error(`session refused (${response.status}); off localhost an admin token is needed`);
  return response.json();
}

async function startCall() {
  // Created inside the click so the browser lets it play sound.
  const context = new AudioContext({ latencyHint: 'interactive' });
  call = { context, seq: 0, chunk: 0, timestampMs: 0, ended: false, media: null, events: null, mic: null };
  stats.callSid = randomSid('CA');
  stats.streamSid = randomSid('MZ');
  for (const key of ['framesSent', 'mediaMessagesReceived', 'mediaBytesReceived', 'marksReceived', 'marksEchoed', 'clearsReceived']) stats[key] = 0;
  stats.events = [];
  ui.transcript.replaceChildren();
  ui.timings.replaceChildren();
  setState('connecting');
  try {
    const session = await requestSession();
    await context.audioWorklet.addModule('/phone/phone-worklet.js');
    call.mic = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
    });
    if (call.ended) return hangUp('cancelled');
    // Events first, so the greeting's events are not missed (the server also keeps a short backlog).
    call.events = openEvents(session);
    call.media = openMedia(session, context);
  } catch (error) {
    fail(error);
  }
}

function openEvents(session) {
  const socket = new WebSocket(session.eventsUrl, [session.subprotocol, `token.${session.eventsToken}`]);
  socket.onmessage = (message) => showEvent(JSON.parse(message.data));
  return socket;
}

function openMedia(session, context) {
  const socket = new WebSocket(session.mediaUrl, [session.subprotocol, `token.${session.token}`]);
  const current = call;
  const send = (message) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  };
  const playback = new AudioWorkletNode(context, 'phone-playback', { numberOfInputs: 0, outputChannelCount: [1] });
  playback.connect(context.destination);
  playback.port.onmessage = ({ data }) => {
    if (data.type !== 'mark') return;
    stats.marksEchoed++;
    send({ event: 'mark', sequenceNumber: String(++current.seq), streamSid: stats.streamSid, mark: { name: data.name } });
  };
  current.playback = playback;

  socket.onopen = () => {
    send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    send({
      event: 'start',
      sequenceNumber: String(++current.seq),
      start: {
        accountSid: 'AC00000000000000000000000000000000',
        streamSid: stats.streamSid,
        callSid: stats.callSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: { callSid: stats.callSid, from: 'client:browser-phone', to: 'agent' },
      },
      streamSid: stats.streamSid,
    });
    const capture = new AudioWorkletNode(context, 'phone-capture', { numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit' });
    capture.port.onmessage = ({ data: frame }) => {
      send({
        event: 'media',
        sequenceNumber: String(++current.seq),
        media: { track: 'inbound', chunk: String(++current.chunk), timestamp: String(current.timestampMs), payload: toBase64(frame) },
        streamSid: stats.streamSid,
      });
      current.timestampMs += 20;
      stats.framesSent++;
    };
    context.createMediaStreamSource(current.mic).connect(capture);
    current.capture = capture;
    setState('in call');
  };
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.event === 'media') {
      const bytes = fromBase64(data.media.payload);
      stats.mediaMessagesReceived++;
      stats.mediaBytesReceived += bytes.length;
      playback.port.postMessage({ type: 'audio', bytes }, [bytes.buffer]);
    } else if (data.event === 'mark') {
      stats.marksReceived++;
      playback.port.postMessage({ type: 'mark', name: data.mark.name });
    } else if (data.event === 'clear') {
      stats.clearsReceived++;
      playback.port.postMessage({ type: 'clear' });
    }
  };
  socket.onclose = (event) => {
    if (!current.ended) hangUp(event.code === 1000 ? 'agent ended the call' : `disconnected (${event.code})`, false);
  };
  return socket;
}

/** Ends the call: `stop` to the server (as Twilio does on hang-up), then releases mic and audio. */
function hangUp(detail = 'you hung up', sendStop = true) {
  if (!call || call.ended) return;
  const current = call;
  current.ended = true;
  const media = current.media;
  if (media && media.readyState <= WebSocket.OPEN) {
    if (sendStop && media.readyState === WebSocket.OPEN) {
      media.send(JSON.stringify({
        event: 'stop',
        sequenceNumber: String(++current.seq),
        stop: { accountSid: 'AC00000000000000000000000000000000', callSid: stats.callSid },
        streamSid: stats.streamSid,
      }));
    }
    media.close(1000, 'hang-up');
  }
  current.mic?.getTracks().forEach((track) => track.stop());
  current.capture?.port.close();
  current.context.close().catch(() => undefined);
  // The event socket stays open briefly so the session's own `call-ended` still arrives.
  const events = current.events;
  if (events) setTimeout(() => events.close(), 3000);
  setState('ended', detail);
}

function fail(error) {
  stats.lastError = String(error?.message ?? error);
  hangUp(stats.lastError, true);
  setState('failed', stats.lastError);
}

function line(kind, who, ...content) {
  const item = document.createElement('li');
  item.className = kind;
  if (who) {
    const label = document.createElement('span');
    label.className = 'who';
    label.textContent = who;
    item.append(label);
  }
  item.append(...content);
  ui.transcript.append(item);
  item.scrollIntoView({ block: 'nearest' });
  return item;
}

const callerTurnNumbers = new Map();

function timingsRow(turnId) {
  let row = ui.timings.querySelector(`tr[data-turn="${turnId}"]`);
  if (!row) {
    row = document.createElement('tr');
    row.dataset.turn = String(turnId);
    for (const name of ['turn', 'ttfa', 'endpoint', 'stt', 'llm', 'tts']) {
      const cell = document.createElement('td');
      cell.className = name;
      row.append(cell);
    }
    row.cells[0].textContent = `#${callerTurnNumbers.get(turnId) ?? '?'}`;
    ui.timings.append(row);
  }
  return row;
}

const ms = (value) => (value === null || value === undefined ? '–' : String(value));

function showEvent(event) {
  stats.events.push(event);
  switch (event.type) {
    case 'call-started':
      callerTurnNumbers.clear();
      return line('system', '', `Connected (${event.callSid})`);
    case 'caller-turn': {
      callerTurnNumbers.set(event.turnId, callerTurnNumbers.size + 1);
      const text = event.input === 'dtmf' ? `keypad: ${event.text}` : event.text || '(nothing recognised)';
      return line('caller', 'you', text);
    }
    case 'agent-turn':
      return line('agent', 'agent', event.text);
    case 'agent-interrupted': {
      const unheard = document.createElement('span');
      unheard.className = 'unheard';
      const rest = event.text.startsWith(event.heardText) ? event.text.slice(event.heardText.length) : ` ${event.text}`;
      unheard.textContent = rest;
      return line('agent', 'agent (interrupted)', event.heardText, unheard);
    }
    case 'turn-metrics': {
      const row = timingsRow(event.turnId);
      const m = event.metrics;
      [m.ttfaMs, m.endpointMs, m.sttMs, m.llmFirstTokenMs, m.ttsFirstByteMs].forEach((value, i) => (row.cells[i + 1].textContent = ms(value)));
      return;
    }
    case 'call-ended':
      return line('system', '', `Call ended (${event.reason})`);
  }
}

ui.call.addEventListener('click', () => void startCall());
ui.hangup.addEventListener('click', () => hangUp());
window.addEventListener('pagehide', () => hangUp('page closed'));
setState('idle');
